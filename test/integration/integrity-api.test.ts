/**
 * The integrity API as a customer's SIEM uses it: the public key, the checkpoints, and a proof of one entry
 * checked offline with nothing but the API's answers.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../../src/config.ts';
import { checkpointSignatureValid, type Checkpoint } from '../../src/integrity/checkpoint.ts';
import { leafHashOf } from '../../src/integrity/leaf.ts';
import { verifyInclusion } from '../../src/integrity/merkle.ts';
import { publicKeyFromPem } from '../../src/integrity/signing.ts';
import { dayIndex } from '../../src/store/names.ts';
import { uniqueId } from '../helpers.ts';
import { rewriteDayIndex, sealAll, testKey, uniqueDay } from '../fixtures/integrity.ts';
import {
  createOrg,
  get,
  ingest,
  startReadService,
  type ReadService,
  type TestOrg,
} from '../fixtures/read.ts';

describe('integrity API: public key, checkpoints, proofs', function () {
  this.timeout(120_000);
  let svc: ReadService;
  let org: TestOrg;
  const day = uniqueDay();
  const ids = { a: uniqueId('evt_a'), b: uniqueId('evt_b'), c: uniqueId('evt_c') };

  before(async () => {
    // A long interval: these tests seal explicitly, so "pending" is observable right after ingest.
    svc = await startReadService({ AUDIT_SEAL_INTERVAL_SECONDS: '60' });
    org = await createOrg(svc.ctx);
    const base = {
      action: 'workflow.updated',
      resourceType: 'workflow',
      ipAddress: '192.0.2.1',
      userAgent: 'ua/1',
    };
    await ingest(svc.ctx, org.orgId, [
      { ...base, id: ids.a, workspaceId: org.ws[0], createdAt: `${day}T01:00:00.000Z`, metadata: { n: 1 } },
      { ...base, id: ids.b, workspaceId: org.ws[1], createdAt: `${day}T02:00:00.000Z` },
    ]);
  });
  after(() => svc.close());

  it('publishes the signing key to readers only', async () => {
    const r = await get(svc.url, '/api/v1/audit-logs/integrity/public-key', org.keys.owner);
    expect(r.status).to.equal(200);
    expect(r.body).to.deep.equal({
      algorithm: 'Ed25519',
      keyId: testKey.keyId,
      publicKeyPem: testKey.publicKeyPem,
    });
    expect(
      (await get(svc.url, '/api/v1/audit-logs/integrity/public-key', org.keys.workspace)).status,
    ).to.equal(200);
    expect((await get(svc.url, '/api/v1/audit-logs/integrity/public-key', org.keys.ingest)).status).to.equal(
      403,
    );
    expect((await get(svc.url, '/api/v1/audit-logs/integrity/public-key')).status).to.equal(401);
  });

  it('answers "pending" for an entry not yet sealed, then a proof a SIEM can check offline', async () => {
    const c = {
      action: 'member.invited',
      resourceType: 'member',
      id: ids.c,
      createdAt: `${day}T03:00:00.000Z`,
    };
    await ingest(svc.ctx, org.orgId, [c]);
    const pending = await get(svc.url, `/api/v1/audit-logs/${ids.c}/proof`, org.keys.owner);
    expect(pending.status).to.equal(200);
    expect(pending.body).to.deep.equal({ status: 'pending', id: ids.c });

    await sealAll(svc.ctx, org.orgId);
    // ingest() refreshes only the read tests' year; the read API searches, so make this day searchable too.
    await svc.store.indices.refresh({ index: dayIndex(`${day}T00:00:00Z`) });
    const proof = (await get(svc.url, `/api/v1/audit-logs/${ids.a}/proof`, org.keys.owner)).body;
    expect(proof.status).to.equal('sealed');
    // The entry is exactly what the read API returns; nothing stored-only leaks.
    const read = await get(svc.url, `/api/v1/audit-logs/${ids.a}`, org.keys.owner);
    expect(proof.entry).to.deep.equal(read.body);
    expect(proof.entry).not.to.have.any.keys('ipAddress', 'userAgent', 'orgId', 'acceptedAt');
    // Offline: leaf from entry + storedHash, path to the root, root signed by the published key.
    const pub = publicKeyFromPem(
      (await get(svc.url, '/api/v1/audit-logs/integrity/public-key', org.keys.owner)).body.publicKeyPem,
    );
    expect(leafHashOf(read.body, proof.storedHash)).to.equal(proof.leaf);
    expect(
      verifyInclusion(proof.leaf, proof.leafIndex, proof.treeSize, proof.auditPath, proof.checkpoint.root),
    ).to.equal(true);
    expect(checkpointSignatureValid(proof.checkpoint, pub)).to.equal(true);
  });

  it('passes the stand-alone customer script of the README (examples/verify-proof.mjs), and fails it when edited', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'siem-'));
    const proof = (await get(svc.url, `/api/v1/audit-logs/${ids.a}/proof`, org.keys.owner)).body;
    const key = (await get(svc.url, '/api/v1/audit-logs/integrity/public-key', org.keys.owner)).body;
    fs.writeFileSync(path.join(dir, 'proof.json'), JSON.stringify(proof));
    fs.writeFileSync(
      path.join(dir, 'edited.json'),
      JSON.stringify({ ...proof, entry: { ...proof.entry, actorId: 'usr_x' } }),
    );
    fs.writeFileSync(path.join(dir, 'key.json'), JSON.stringify(key));
    const script = path.join(PROJECT_ROOT, 'examples', 'verify-proof.mjs');
    const run = (file: string) =>
      promisify(execFile)('node', [script, path.join(dir, file), path.join(dir, 'key.json')]);
    const ok = await run('proof.json');
    expect(ok.stdout).to.contain(`entry ${ids.a} is leaf ${proof.leafIndex} of seal ${proof.checkpoint.seq}`);
    const bad = await run('edited.json').then(
      () => 'passed',
      (err: { stderr: string }) => err.stderr,
    );
    expect(bad).to.contain('the entry is not the one that was sealed');
  });

  it('lists the org’s checkpoints by seq with a cursor, each signed and chained', async () => {
    const seen: Checkpoint[] = [];
    let cursor: string | undefined;
    do {
      const r = await get(
        svc.url,
        `/api/v1/audit-logs/integrity/checkpoints?limit=1${cursor ? `&cursor=${cursor}` : ''}`,
        org.keys.owner,
      );
      expect(r.status).to.equal(200);
      seen.push(...r.body.data);
      cursor = r.body.nextCursor;
    } while (cursor);
    expect(seen.map((c) => c.seq)).to.deep.equal(seen.map((_, i) => i + 1));
    expect(seen.length).to.be.at.least(1);
    seen.forEach((c, i) => {
      expect(c.orgId).to.equal(org.orgId);
      expect(c.prevSealHash).to.equal(i === 0 ? null : seen[i - 1]!.sealHash);
      expect(checkpointSignatureValid(c, testKey)).to.equal(true);
      expect(c).not.to.have.any.keys('eventIds', 'leaves', 'storedHashes', 'packedLeaves', 'storedHashRuns');
    });
    // A workspace key sees the same org-wide checkpoints (hashes only).
    const ws = await get(svc.url, '/api/v1/audit-logs/integrity/checkpoints', org.keys.workspace);
    expect(ws.body.data).to.deep.equal(seen);
  });

  it('refuses bad parameters with errors that name them', async () => {
    const path = '/api/v1/audit-logs/integrity/checkpoints';
    expect((await get(svc.url, `${path}?cursor=abc`, org.keys.owner)).body.code).to.equal('invalid_cursor');
    expect((await get(svc.url, `${path}?limit=0`, org.keys.owner)).body).to.include({
      code: 'invalid_parameter',
      param: 'limit',
    });
    expect((await get(svc.url, `${path}?foo=1`, org.keys.owner)).body).to.include({
      code: 'unknown_parameter',
      param: 'foo',
    });
    // Only plain decimals: no number is read out of other spellings.
    for (const limit of ['05', '0x10', '1e1', '+5', '5.0', ' 5']) {
      const res = await get(svc.url, `${path}?limit=${encodeURIComponent(limit)}`, org.keys.owner);
      expect(res.body, limit).to.include({ code: 'invalid_parameter', param: 'limit' });
    }
    expect((await get(svc.url, `${path}?cursor=007`, org.keys.owner)).body.code).to.equal('invalid_cursor');
  });

  it('pages checkpoints with a signed cursor bound to the org; a bare, edited or foreign one is refused', async () => {
    // An org of its own with two seals, so the first page of one has a nextCursor (on a day of its own: the
    // tamper test below rewrites the day index of `day`).
    const other = await createOrg(svc.ctx);
    const otherDay = uniqueDay();
    for (const hour of ['03', '04']) {
      const id = uniqueId('evt_p');
      await ingest(svc.ctx, other.orgId, [
        {
          action: 'workflow.updated',
          resourceType: 'workflow',
          id,
          createdAt: `${otherDay}T${hour}:00:00.000Z`,
        },
      ]);
      await sealAll(svc.ctx, other.orgId);
    }
    const path = '/api/v1/audit-logs/integrity/checkpoints';
    const first = await get(svc.url, `${path}?limit=1`, other.keys.owner);
    const cursor: string = first.body.nextCursor;
    expect(cursor).to.match(/^cp1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    const second = await get(svc.url, `${path}?limit=1&cursor=${cursor}`, other.keys.owner);
    expect(second.body.data.map((c: Checkpoint) => c.seq)).to.deep.equal([2]);

    const refused = async (c: string, key = other.keys.owner) => {
      const r = await get(svc.url, `${path}?cursor=${encodeURIComponent(c)}`, key);
      expect(r.status, c).to.equal(400);
      expect(r.body, c).to.include({ code: 'invalid_cursor', param: 'cursor' });
    };
    await refused('1');
    await refused(cursor, org.keys.owner);
    const [version, , mac] = cursor.split('.');
    await refused(`${version}.${Buffer.from('5').toString('base64url')}.${mac}`);
    await refused(`c1${cursor.slice(3)}`);
    await refused(cursor.slice(0, -1));
  });

  it('gives proofs only for entries the key may read', async () => {
    expect((await get(svc.url, `/api/v1/audit-logs/${ids.a}/proof`, org.keys.workspace)).status).to.equal(
      200,
    );
    expect((await get(svc.url, `/api/v1/audit-logs/${ids.b}/proof`, org.keys.workspace)).status).to.equal(
      404,
    );
    expect((await get(svc.url, `/api/v1/audit-logs/evt_nope/proof`, org.keys.owner)).status).to.equal(404);
    const other = await createOrg(svc.ctx);
    expect((await get(svc.url, `/api/v1/audit-logs/${ids.a}/proof`, other.keys.owner)).status).to.equal(404);
    expect((await get(svc.url, `/api/v1/audit-logs/${ids.a}/proof`, org.keys.member)).status).to.equal(403);
  });

  it('lets the SIEM see that an entry was changed after it was sealed', async () => {
    await rewriteDayIndex(svc.store, dayIndex(`${day}T00:00:00Z`), [org.orgId], (docs) =>
      docs.map((d) => (d.id === ids.a ? { ...d, description: 'rewritten' } : d)),
    );
    const proof = (await get(svc.url, `/api/v1/audit-logs/${ids.a}/proof`, org.keys.owner)).body;
    expect(proof.entry.description).to.equal('rewritten');
    expect(leafHashOf(proof.entry, proof.storedHash)).not.to.equal(proof.leaf);
  });
});
