/**
 * Key rotation as an operator does it (npm run keys) against a running service: the new key signs within the
 * stated bound without a restart, both sign during the overlap, a retired key's window ends, history keeps
 * verifying, and a stolen retired key signing anew is reported. Notes are checked by Go's sumdb/note.
 */
import { expect } from 'chai';
import { runExample } from '../fixtures/examples.ts';
import { KEY_CHANGE_GRACE_MS, KEYRING_RELOAD_MS } from '../../src/integrity/keyring.ts';
import { resealChain, testKey } from '../fixtures/integrity.ts';
import {
  createOrg,
  get,
  ingest,
  startReadService,
  type ReadService,
  type TestOrg,
} from '../fixtures/read.ts';
import { TEST_SIGNING_KEY_PEM, uniqueId } from '../helpers.ts';
import { independentCheck } from '../independent/tlogcheck.ts';
import { runScript } from '../scripts.ts';
import fs from 'node:fs';
import path from 'node:path';

const API = '/api/v1/audit-logs/integrity';
const sizeOf = (note: string) => Number(note.split('\n')[1]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface KeyView {
  keyId: string;
  verifierKey: string;
  publicKeyPem: string;
  validFrom: string;
  validUntil: string | null;
}

describe('key rotation (npm run keys) on a running service', function () {
  this.timeout(180_000);
  let svc: ReadService;
  let org: TestOrg;
  const env = () => ({ AUDIT_STATE_DIR: svc.ctx.cfg.stateDir, AUDIT_SIGNING_KEY: TEST_SIGNING_KEY_PEM });
  const keys = (...args: string[]) => runScript('keys', args, env());
  const verify = (...args: string[]) => runScript('verify', ['--org', org.orgId, ...args], env());
  const checkpoint = async (query = '') => {
    const res = await get(svc.url, `${API}/checkpoint${query}`, org.keys.owner);
    return res.status === 200 ? res.text : '';
  };
  const publicKey = async () =>
    (await get(svc.url, `${API}/public-key`, org.keys.owner)).body as KeyView & { keys: KeyView[] };

  /** Ingests `n` events now and waits until the service's own sealer has put them in a signed checkpoint. */
  async function ingestAndSeal(n: number): Promise<string> {
    const before = sizeOf((await checkpoint()) || '\n0');
    const now = Date.now();
    await ingest(
      svc.ctx,
      org.orgId,
      Array.from({ length: n }, (_, i) => ({
        id: uniqueId('evt'),
        action: 'workflow.updated',
        resourceType: 'workflow',
        createdAt: new Date(now - 1000 + i).toISOString(),
      })),
    );
    for (let i = 0; i < 150; i++) {
      const note = await checkpoint();
      if (note && sizeOf(note) >= before + n) return note;
      await sleep(200);
    }
    const last = await get(svc.url, `${API}/checkpoint`, org.keys.owner);
    throw new Error(
      `the sealer did not seal ${n} new events within 30 s (from size ${before}; now ${last.status} ${last.text})`,
    );
  }

  /** examples/monitor.mjs, the customer's monitor, keeping its state in `state`. */
  const monitor = (state: string) =>
    runExample('monitor.mjs', [
      '--url',
      svc.url,
      '--key',
      org.keys.owner,
      '--state',
      path.join(svc.ctx.cfg.stateDir, state),
    ]);

  before(async () => {
    svc = await startReadService({ AUDIT_SEAL_INTERVAL_SECONDS: '1' });
    org = await createOrg(svc.ctx);
    await ingestAndSeal(3);
    // Two customers pin the log's key now; one of them will sleep through the overlap.
    expect((await monitor('watchful.json')).code).to.equal(0);
    expect((await monitor('asleep.json')).code).to.equal(0);
  });
  after(async () => svc?.close());

  it('rotates: the new key signs seals and checkpoints, the old one signs beside it for the overlap', async () => {
    const rotated = await keys('rotate', '--overlap-hours', '1');
    expect(rotated.code, rotated.stderr).to.equal(0);
    const k2 = /new key ([0-9a-f]{16})/.exec(rotated.stdout)![1]!;
    // Every instance re-reads the ring within KEYRING_RELOAD_MS: no restart.
    let pk = await publicKey();
    for (let i = 0; i < 40 && pk.keyId !== k2; i++, pk = await publicKey())
      await sleep(KEYRING_RELOAD_MS / 20);
    expect(pk.keyId).to.equal(k2);
    // That instance's API has seen it; its sealer re-reads the ring on its own clock, within the same bound.
    await sleep(KEYRING_RELOAD_MS);
    expect(pk.keys.map((k) => k.keyId)).to.deep.equal([testKey.keyId, k2]);
    const [k1View, k2View] = pk.keys as [KeyView, KeyView];
    expect(k1View.validUntil).to.be.a('string');
    expect(Date.parse(k1View.validUntil!) - Date.parse(k2View.validFrom)).to.be.closeTo(3_600_000, 5000);
    expect(k2View.validUntil).to.equal(null);

    const note = await ingestAndSeal(2);
    const seals = (await get(svc.url, `${API}/checkpoints?limit=100`, org.keys.owner)).body.data as {
      keyId: string;
    }[];
    expect(seals[seals.length - 1]!.keyId).to.equal(k2);
    expect(seals[0]!.keyId).to.equal(testKey.keyId);
    // Signed by both: a verifier that knows only one of them accepts it (Go's sumdb/note, not our code).
    const check = independentCheck([
      { kind: 'note', vkey: k1View.verifierKey, note },
      { kind: 'note', vkey: k2View.verifierKey, note },
    ]);
    expect(check.ok, check.lines.join('\n')).to.equal(true);

    const clean = await verify();
    expect(clean.code, clean.stdout + clean.stderr).to.equal(0);
    expect(clean.stdout).to.contain('CLEAN');
    // The monitor learns the new key from a checkpoint its trusted key signed too.
    const watched = await monitor('watchful.json');
    expect(watched.code, watched.out).to.equal(0);
    const state = JSON.parse(fs.readFileSync(path.join(svc.ctx.cfg.stateDir, 'watchful.json'), 'utf8'));
    expect(state.keys.map((k: KeyView) => k.keyId)).to.deep.equal([testKey.keyId, k2]);
  });

  it('retires the old key: later checkpoints carry only the new key, history still verifies', async () => {
    const pk = await publicKey();
    const [k1View, k2View] = pk.keys as [KeyView, KeyView];
    const first = (await get(svc.url, `${API}/checkpoints?limit=1`, org.keys.owner)).body.data[0] as {
      size: number;
    };
    const refused = await keys('retire', k2View.keyId);
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.contain('rotate first');

    const retired = await keys('retire', k1View.keyId);
    expect(retired.code, retired.stderr).to.equal(0);
    await sleep(KEY_CHANGE_GRACE_MS + 1000);
    const note = await ingestAndSeal(2);
    const after = independentCheck([
      { kind: 'note', vkey: k2View.verifierKey, note },
      { kind: 'note', vkey: k1View.verifierKey, note },
    ]);
    expect(after.lines[0]).to.match(/ok$/);
    expect(after.lines[1]).to.contain('fail');
    // A checkpoint signed long before, by the old key only, is served signed by the new key too.
    const old = await checkpoint(`?size=${first.size}`);
    const oldCheck = independentCheck([{ kind: 'note', vkey: k2View.verifierKey, note: old }]);
    expect(oldCheck.ok, oldCheck.lines.join('\n')).to.equal(true);
    expect((await publicKey()).keys[0]!.validUntil).to.equal(
      JSON.parse(fs.readFileSync(path.join(svc.ctx.cfg.stateDir, 'keys', 'keyring.json'), 'utf8')).keys[0]
        .validUntil,
    );

    const clean = await verify();
    expect(clean.code, clean.stdout + clean.stderr).to.equal(0);
    expect((await monitor('watchful.json')).code).to.equal(0);
    // Who slept through the overlap never saw the new key vouched for: it must re-pin, and is told so.
    const asleep = await monitor('asleep.json');
    expect(asleep.code).to.equal(1);
    expect(asleep.out).to.contain('not signed by any log key this monitor trusts');
    // A customer holding only the public keys and windows checks the same history.
    const keysFile = path.join(svc.ctx.cfg.stateDir, 'public-keys.json');
    fs.writeFileSync(keysFile, JSON.stringify(await publicKey()));
    const asCustomer = await runScript('verify', ['--org', org.orgId, '--keys', keysFile], {
      AUDIT_STATE_DIR: path.join(svc.ctx.cfg.stateDir, 'elsewhere'),
    });
    expect(asCustomer.code, asCustomer.stdout + asCustomer.stderr).to.equal(0);
  });

  it('reports seals a thief signs with the retired key after its window', async () => {
    await resealChain(svc.store, org.orgId, testKey);
    const caught = await verify();
    expect(caught.code).to.equal(2);
    expect(caught.stdout).to.contain('[seal-key-outside-window]');
    expect(caught.stdout).to.contain(`by key ${testKey.keyId}, valid only [1970-01-01T00:00:00.000Z, `);
    // Seals made while the old key was valid are no finding, re-signed by it or not.
    const seqs = [...caught.stdout.matchAll(/\[seal-key-outside-window\] seal (\d+)/g)].map((m) =>
      Number(m[1]),
    );
    const lines = (await get(svc.url, `${API}/checkpoints?limit=100`, org.keys.owner)).body.data as {
      seq: number;
      sealedAt: string;
    }[];
    const k1Until = (await publicKey()).keys[0]!.validUntil!;
    expect(seqs).to.deep.equal(lines.filter((s) => s.sealedAt >= k1Until).map((s) => s.seq));
    expect(seqs.length).to.be.greaterThan(0);
  });

  it('lists keys and refuses mistakes', async () => {
    const list = await keys('list', '--json');
    const rows = JSON.parse(list.stdout).keys as { keyId: string; status: string; privateKeyHere: boolean }[];
    // The retired key's private half is still in this environment's AUDIT_SIGNING_KEY (retire says to drop it).
    expect(rows.map((r) => [r.status, r.privateKeyHere])).to.deep.equal([
      ['retired', true],
      ['valid', true],
    ]);
    expect((await keys('retire', 'nope')).stderr).to.contain('no key nope in the ring');
    expect((await keys('turn')).stderr).to.contain('unknown command "turn"');
    expect((await keys('rotate', '--overlap', '2')).stderr).to.contain('did you mean --overlap-hours?');
  });

  it('the customer tools refuse a checkpoint signed only by the retired key', async () => {
    const pk = await publicKey();
    const keysFile = path.join(svc.ctx.cfg.stateDir, 'public-key.json');
    fs.writeFileSync(keysFile, JSON.stringify(pk));
    const proofOf = async (id: string) =>
      (await get(svc.url, `/api/v1/audit-logs/${id}/proof?format=tlog-proof`, org.keys.owner)).text;
    const ids = (await get(svc.url, '/api/v1/audit-logs?limit=1', org.keys.owner)).body.data as {
      id: string;
    }[];
    const genuine = await proofOf(ids[0]!.id);
    const tool = (file: string) => runExample('verify-proof.mjs', [file, keysFile]);
    const okFile = path.join(svc.ctx.cfg.stateDir, 'genuine.tlog-proof');
    fs.writeFileSync(okFile, genuine);
    const ok = await tool(okFile);
    expect(ok.code, ok.out).to.equal(0);

    // The thief's checkpoint: the same text, signed by the retired key alone.
    const { signNote } = await import('../../src/integrity/note.ts');
    const noteStart = genuine.indexOf('\n\n') + 2;
    const text = genuine.slice(noteStart, genuine.indexOf('\n\n', noteStart) + 1);
    const origin = text.split('\n')[0]!;
    const forged = genuine.slice(0, noteStart) + signNote(text, [{ name: origin, ...testKey }]);
    const badFile = path.join(svc.ctx.cfg.stateDir, 'forged.tlog-proof');
    fs.writeFileSync(badFile, forged);
    const bad = await tool(badFile);
    expect(bad.code).to.equal(2);
    expect(bad.out).to.contain(`signed only by key ${testKey.keyId}`);
    expect(bad.out).to.contain('outside its window');
  });
});
