/**
 * The integrity API as a customer's SIEM uses it: the public key, the checkpoints, and a proof of one entry
 * checked offline with nothing but the API's answers.
 */
import { expect } from 'chai';
import { runExample } from '../fixtures/examples.ts';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_LOG_ORIGIN } from '../../src/config.ts';
import { logVerifierKey } from '../../src/integrity/org-tree.ts';
import { checkpointSignatureValid, type Checkpoint } from '../../src/integrity/checkpoint.ts';
import { toEntry, type StoredEvent } from '../../src/events/schema.ts';
import { canonical, leafHashOf, sha256 } from '../../src/integrity/leaf.ts';
import { ledgerEntryOf } from '../../src/integrity/ledger.ts';
import { verifyInclusion } from '../../src/integrity/merkle.ts';
import { publicKeyFromPem } from '../../src/integrity/signing.ts';
import { verifyOrg } from '../../src/integrity/verify.ts';
import { writeDocs } from '../../src/store/bulk-writes.ts';
import { getEvents } from '../../src/store/event-lookups.ts';
import { createEvent } from '../../src/store/events.ts';
import { claimEntry } from '../../src/store/ledger-store.ts';
import { getEntry } from '../../src/store/ledger-store.ts';
import { dayIndex } from '../../src/store/names.ts';
import { uniqueId } from '../helpers.ts';
import { postEvents } from '../fixtures/ingest.ts';
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
      verifierKey: logVerifierKey(testKey, DEFAULT_LOG_ORIGIN, org.orgId),
      // Before any rotation: the one key, valid from the epoch with no end.
      keys: [
        {
          keyId: testKey.keyId,
          publicKeyPem: testKey.publicKeyPem,
          verifierKey: logVerifierKey(testKey, DEFAULT_LOG_ORIGIN, org.orgId),
          validFrom: '1970-01-01T00:00:00.000Z',
          validUntil: null,
        },
      ],
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
      verifyInclusion(
        proof.leaf,
        proof.leafIndex,
        proof.treeSize,
        proof.auditPath,
        proof.sealCheckpoint.root,
      ),
    ).to.equal(true);
    expect(checkpointSignatureValid(proof.sealCheckpoint, pub)).to.equal(true);
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
    const run = (file: string) =>
      runExample('verify-proof.mjs', [path.join(dir, file), path.join(dir, 'key.json')]);
    const ok = await run('proof.json');
    expect(ok.code, ok.out).to.equal(0);
    expect(ok.out).to.contain(
      `entry ${ids.a} is leaf ${proof.index} of ${DEFAULT_LOG_ORIGIN}/${org.orgId} at size ${proof.size}`,
    );
    const bad = await run('edited.json');
    expect(bad.code).to.not.equal(0);
    expect(bad.out).to.contain('the entry is not the one that was sealed');
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
      expect(c).not.to.have.any.keys(
        'eventIds',
        'leaves',
        'storedHashes',
        'packedLeaves',
        'packedStoredHashes',
        'storedHashRuns',
      );
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

  it('gives nothing in a proof to find the IP address and user agent by trying every likely value', async () => {
    const victim = await createOrg(svc.ctx);
    // The org's own setup events first: the event below is then sealed alone, its acceptedAt known exactly.
    await sealAll(svc.ctx, victim.orgId);
    const agents = ['Mozilla/5.0 (X11; Linux x86_64)', 'curl/8.5.0', 'okhttp/4.12.0'];
    const ipAddress = `10.0.0.${crypto.randomInt(256)}`;
    const userAgent = agents[crypto.randomInt(agents.length)]!;
    const posted = await postEvents(svc.url, victim.keys.ingest, {
      action: 'member.invited',
      resourceType: 'member',
      ipAddress,
      userAgent,
    });
    expect(posted.status, JSON.stringify(posted.body)).to.equal(201);
    const id: string = posted.body.results[0].id;
    await sealAll(svc.ctx, victim.orgId);
    const proof = (await get(svc.url, `/api/v1/audit-logs/${id}/proof`, victim.keys.owner)).body;
    expect(proof.status).to.equal('sealed');

    // The attacker holds the proof: the org, the storedHash, and acceptedAt within the checkpoint's span.
    const { orgId, firstAcceptedAt, lastAcceptedAt } = proof.sealCheckpoint;
    const [first, last] = [Date.parse(firstAcceptedAt), Date.parse(lastAcceptedAt)];
    expect(last - first).to.be.below(60_000);
    const search = (extra: object) => {
      for (let t = first; t <= last; t++) {
        const acceptedAt = new Date(t).toISOString();
        for (const ip of [null, ...Array.from({ length: 256 }, (_, n) => `10.0.0.${n}`)])
          for (const ua of [null, ...agents]) {
            const fields = { orgId, ipAddress: ip, userAgent: ua, acceptedAt, ...extra };
            if (sha256(canonical(fields)).toString('hex') === proof.storedHash)
              return { ipAddress: ip, userAgent: ua };
          }
      }
      return undefined;
    };
    expect(search({})).to.equal(undefined);
    // The same search given the event's secret salt, which only the stored document holds, finds them: the
    // space held the answer, only the salt kept it out of reach.
    const entry = (await getEntry(svc.store, victim.orgId, id))!;
    const [stored] = await getEvents(svc.store, [{ index: entry.index, orgId: victim.orgId, eventId: id }]);
    expect(stored!.salt).to.match(/^[A-Za-z0-9_-]{22}$/);
    expect(search({ salt: stored!.salt })).to.deep.equal({ ipAddress, userAgent });
  });

  it('keeps proving and verifying an event stored before salts existed', async () => {
    const veteran = await createOrg(svc.ctx);
    const createdAt = `${uniqueDay()}T05:00:00.000Z`;
    const index = dayIndex(createdAt);
    const doc: StoredEvent = {
      id: uniqueId('evt_old'),
      action: 'workflow.updated',
      resourceType: 'workflow',
      resourceId: 'wf_1',
      resourceName: null,
      description: 'Updated workflow wf_1',
      actorId: null,
      actorName: null,
      actorEmail: null,
      workspaceId: null,
      metadata: {},
      createdAt,
      orgId: veteran.orgId,
      acceptedAt: new Date().toISOString(),
      ipAddress: '192.0.2.77',
      userAgent: 'old/1',
    };
    // As the service wrote events before salts: none in the document, and a storedHash of four fields.
    const { orgId, ipAddress, userAgent, acceptedAt } = doc;
    const storedHash = sha256(canonical({ orgId, ipAddress, userAgent, acceptedAt })).toString('hex');
    const leaf = leafHashOf(toEntry(doc), storedHash);
    const claimed = await writeDocs(
      svc.store,
      [claimEntry(ledgerEntryOf(doc, index, { leaf, storedHash }))],
      Infinity,
    );
    const written = await writeDocs(svc.store, [createEvent(index, doc)], Infinity);
    expect([claimed[0]!.status, written[0]!.status]).to.deep.equal([201, 201]);
    // A salted event after it, sealed in the same seal.
    await ingest(svc.ctx, veteran.orgId, [
      { action: 'workflow.updated', resourceType: 'workflow', createdAt, ipAddress: '192.0.2.78' },
    ]);
    await sealAll(svc.ctx, veteran.orgId);

    const report = await verifyOrg(svc.store, {
      orgId: veteran.orgId,
      publicKey: testKey,
      lateGraceMs: 0,
      retention: { days: 36500 },
    });
    expect(report.problems).to.deep.equal([]);
    expect(report.clean).to.equal(true);
    const proof = (await get(svc.url, `/api/v1/audit-logs/${doc.id}/proof`, veteran.keys.owner)).body;
    expect(proof.status).to.equal('sealed');
    expect(proof.storedHash).to.equal(storedHash);
    expect(leafHashOf(proof.entry, proof.storedHash)).to.equal(proof.leaf);
    expect(
      verifyInclusion(
        proof.leaf,
        proof.leafIndex,
        proof.treeSize,
        proof.auditPath,
        proof.sealCheckpoint.root,
      ),
    ).to.equal(true);
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
