/**
 * Witnesses (c2sp.org/tlog-witness): `npm run witness` as its own process cosigns each org checkpoint the
 * service sends it, the cosignatures are served on the checkpoint and accepted by code that is not ours, and
 * an attacker holding the signing key gets no cosignature for a rewritten or rolled-back history.
 */
import { expect } from 'chai';
import type { ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_LOG_ORIGIN, loadConfig } from '../../src/config.ts';
import { sha256 } from '../../src/integrity/leaf.ts';
import { checkpointText, signNote } from '../../src/integrity/note.ts';
import { logSigner, logVerifierKey } from '../../src/integrity/org-tree.ts';
import { iterateSeals } from '../../src/integrity/seals.ts';
import { appendToTiles, nodesFromTiles, tileKey } from '../../src/integrity/tiles.ts';
import { consistencyProof, treeRoot } from '../../src/integrity/tree.ts';
import { testKey, uniqueDay } from '../fixtures/integrity.ts';
import {
  createOrg,
  get,
  ingestSealed,
  startReadService,
  type ReadService,
  type TestOrg,
} from '../fixtures/read.ts';
import { independentCheck } from '../independent/tlogcheck.ts';
import { startWitness } from '../fixtures/witness.ts';

const CHECKPOINT = '/api/v1/audit-logs/integrity/checkpoint';

describe('witnesses: cosigned checkpoints, refused rewrites', function () {
  this.timeout(240_000);
  let svc: ReadService;
  let org: TestOrg;
  let witness: { url: string; vkey: string; child: ChildProcess };
  let logVkey: string;
  const day = uniqueDay();
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'witness-'));

  const batch = (n: number, hour: number) => ingestSealed(svc.ctx, org.orgId, day, n, hour);

  /** Polls the checkpoint until the witness's cosignature is on it at `size` (or the newest size). */
  const cosigned = async (size?: number): Promise<string> => {
    for (let i = 0; i < 100; i++) {
      const note = (await get(svc.url, CHECKPOINT, org.keys.owner)).text;
      const [, n] = note.split('\n');
      if (note.includes(`— ${witness.vkey.split('+')[0]} `) && (size === undefined || Number(n) === size))
        return note;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error('the checkpoint was not cosigned');
  };
  const post = async (body: string) => {
    const res = await fetch(`${witness.url}/add-checkpoint`, { method: 'POST', body });
    return { status: res.status, text: await res.text() };
  };

  before(async () => {
    // The log's key is known before the service runs: it is the test signing key under the default origin.
    const probe = await startReadService({ AUDIT_SEALING: 'false' });
    const probeOrg = await createOrg(probe.ctx);
    logVkey = (await get(probe.url, '/api/v1/audit-logs/integrity/public-key', probeOrg.keys.owner)).body
      .verifierKey;
    await probe.close();
    witness = await startWitness(state, logVkey);
    svc = await startReadService({
      AUDIT_SEAL_INTERVAL_SECONDS: '60',
      AUDIT_WITNESSES: `${witness.url}=${witness.vkey}`,
      AUDIT_WITNESS_INTERVAL_SECONDS: '1',
    });
    org = await createOrg(svc.ctx);
  });
  after(async () => {
    await svc?.close();
    witness?.child.kill('SIGTERM');
  });

  it('gets each new checkpoint cosigned, and serves the cosignature Go code accepts', async () => {
    await batch(3, 1);
    const first = await cosigned();
    await batch(40, 2);
    const size = Number((await get(svc.url, CHECKPOINT, org.keys.owner)).text.split('\n')[1]);
    const second = await cosigned(size);
    expect(Number(first.split('\n')[1])).to.be.below(size);
    const vkey = (await get(svc.url, '/api/v1/audit-logs/integrity/public-key', org.keys.owner)).body
      .verifierKey;
    const checks = independentCheck([
      { kind: 'note', vkey, note: second },
      { kind: 'cosignature', vkey: witness.vkey, note: first },
      { kind: 'cosignature', vkey: witness.vkey, note: second },
    ]);
    expect(checks.lines).to.deep.equal(['0 note ok', '1 cosignature ok', '2 cosignature ok']);
    // The witness serves what it cosigned last for monitors.
    const origin = second.split('\n')[0]!;
    const hash = sha256(origin).toString('hex');
    const mon = await fetch(`${witness.url}/${hash}/checkpoint`);
    expect((await mon.text()).split('\n').slice(0, 3)).to.deep.equal(second.split('\n').slice(0, 3));
  });

  it('refuses a rewritten history signed with the stolen key, and a rolled-back one', async () => {
    const note = await cosigned();
    const [origin, sizeLine] = note.split('\n');
    const size = Number(sizeLine);
    // The attacker rewrites the first leaf, appends one more and rebuilds and re-signs the tree.
    const leaves: string[] = [];
    for await (const s of iterateSeals(svc.store, org.orgId, { withLists: true })) leaves.push(...s.leaves);
    leaves[0] = sha256('forged').toString('hex');
    leaves.push(sha256('one more').toString('hex'));
    const tiles = new Map(
      appendToTiles(0, Buffer.from(leaves.join(''), 'hex'), new Map()).map((t) => [tileKey(t), t.hashes]),
    );
    const read = nodesFromTiles(tiles);
    const signer = logSigner(testKey, DEFAULT_LOG_ORIGIN, org.orgId);
    const forged = signNote(checkpointText(origin!, size + 1, treeRoot(size + 1, read)), [signer]);
    const proof = consistencyProof(size, size + 1, read).map((h) => `${h.toString('base64')}\n`);
    const rewrite = await post(`old ${size}\n${proof.join('')}\n${forged}`);
    expect(rewrite.status).to.equal(422);

    // A rollback: the newest seals and their events removed, a smaller tree re-signed.
    const smaller = signNote(checkpointText(origin!, size - 1, treeRoot(size - 1, read)), [signer]);
    expect((await post(`old ${size}\n\n${smaller}`)).status).to.equal(400);
    const claimed = await post(`old ${size - 1}\n\n${smaller}`);
    expect(claimed).to.deep.equal({ status: 409, text: `${size}\n` });
    // A note not signed by the log's key is refused outright.
    const stranger = signNote(checkpointText(origin!, size + 1, treeRoot(size + 1, read)), [
      {
        ...signer,
        name: `${origin}`,
        privateKey: crypto.generateKeyPairSync('ed25519').privateKey,
      },
    ]);
    expect((await post(`old ${size}\n${proof.join('')}\n${stranger}`)).status).to.equal(403);
  });

  it('keeps its state across a kill: a restarted witness still refuses to go back', async () => {
    const note = await cosigned();
    const size = Number(note.split('\n')[1]);
    witness.child.kill('SIGKILL');
    await new Promise((r) => witness.child.once('exit', r));
    witness = await startWitness(state, logVkey);
    const res = await post(
      `old 0\n\n${note.slice(0, note.indexOf('\n\n') + 2)}${note.split('\n').find((l) => l.startsWith(`— ${DEFAULT_LOG_ORIGIN}`))}\n`,
    );
    expect(res).to.deep.equal({ status: 409, text: `${size}\n` });
  });
});

describe('AUDIT_WITNESS_QUORUM: the checkpoint served carries the cosignatures asked for', function () {
  this.timeout(120_000);
  let svc: ReadService;
  let witness: { url: string; vkey: string; child: ChildProcess };
  after(async () => {
    await svc?.close();
    witness?.child.kill('SIGTERM');
  });

  it('serves the newest checkpoint the witness cosigned, and proofs against it, not a newer uncosigned one', async () => {
    const logVkey = logVerifierKey(testKey, DEFAULT_LOG_ORIGIN, 'any');
    witness = await startWitness(fs.mkdtempSync(path.join(os.tmpdir(), 'quorum-')), logVkey);
    svc = await startReadService({
      AUDIT_SEAL_INTERVAL_SECONDS: '60',
      AUDIT_WITNESSES: `${witness.url}=${witness.vkey}`,
      AUDIT_WITNESS_INTERVAL_SECONDS: '1',
      AUDIT_WITNESS_QUORUM: '1',
    });
    const org = await createOrg(svc.ctx);
    const day = uniqueDay();
    const witnessName = `— ${witness.vkey.split('+')[0]} `;
    const first = await ingestSealed(svc.ctx, org.orgId, day, 4, 1);
    let note = '';
    for (let i = 0; i < 100 && !note.includes(witnessName); i++) {
      note = (await get(svc.url, CHECKPOINT, org.keys.owner)).text;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(note).to.contain(witnessName);
    const witnessedSize = Number(note.split('\n')[1]);

    // The witness goes away; the log grows on without it.
    witness.child.kill('SIGTERM');
    await new Promise((r) => witness.child.once('exit', r));
    const second = await ingestSealed(svc.ctx, org.orgId, day, 3, 2);
    const newest = (await get(svc.url, `${CHECKPOINT}?size=${witnessedSize + 3}`, org.keys.owner)).text;
    expect(newest).not.to.contain(witnessName);
    const served = (await get(svc.url, CHECKPOINT, org.keys.owner)).text;
    expect(Number(served.split('\n')[1])).to.equal(witnessedSize);
    expect(served).to.contain(witnessName);

    const proof = async (id: string) =>
      (await get(svc.url, `/api/v1/audit-logs/${id}/proof`, org.keys.owner)).body as {
        size: number;
        checkpoint: string;
      };
    expect((await proof(first[0]!)).size).to.equal(witnessedSize);
    expect((await proof(first[0]!)).checkpoint).to.contain(witnessName);
    expect((await proof(second[0]!)).size).to.equal(witnessedSize + 3);

    expect(() =>
      loadConfig({ AUDIT_WITNESSES: `${witness.url}=${witness.vkey}`, AUDIT_WITNESS_QUORUM: '2' }),
    ).to.throw('AUDIT_WITNESS_QUORUM is 2, but AUDIT_WITNESSES names 1 witness(es)');
  });
});
