/**
 * An attacker who holds the signing key and write access to OpenSearch, against a witness and a customer's
 * monitor (examples/monitor.mjs), all real processes: a rewritten history and a rollback are both caught,
 * though the attacker's own seals and tree are consistent again.
 */
import { expect } from 'chai';
import { runExample } from '../fixtures/examples.ts';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dayIndex, INTERNAL } from '../../src/store/names.ts';
import { rebuildOrgTree, resealChain, rewriteDayIndex, testKey, uniqueDay } from '../fixtures/integrity.ts';
import {
  createOrg,
  get,
  ingestSealed,
  startReadService,
  type ReadService,
  type TestOrg,
} from '../fixtures/read.ts';
import { startWitness } from '../fixtures/witness.ts';
import { TEST_SIGNING_KEY_PEM } from '../helpers.ts';
import { runScript } from '../scripts.ts';

const CHECKPOINT = '/api/v1/audit-logs/integrity/checkpoint';
const sizeOf = (note: string) => Number(note.split('\n')[1]);

describe('attacker with the signing key and the database: witness and monitor catch it', function () {
  this.timeout(300_000);
  let svc: ReadService;
  let org: TestOrg;
  let witness: Awaited<ReturnType<typeof startWitness>>;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'attack-'));
  const day = uniqueDay();
  const firstIds: string[] = [];

  const batch = (n: number, hour: number) => ingestSealed(svc.ctx, org.orgId, day, n, hour);

  const monitor = (state: string) =>
    runExample('monitor.mjs', [
      '--url',
      svc.url,
      '--key',
      org.keys.owner,
      '--state',
      state,
      '--witness',
      witness.vkey,
      '--quorum',
      '0',
    ]);
  /** `npm run verify --witness`, as the operator or an auditor runs it. */
  const verifyWithWitness = () =>
    runScript('verify', ['--org', org.orgId, '--witness', `${witness.url}=${witness.vkey}`], {
      AUDIT_SIGNING_KEY: TEST_SIGNING_KEY_PEM,
      AUDIT_STATE_DIR: svc.ctx.cfg.stateDir,
    });
  /** What the witness cosigned last for this org (its monitoring API). */
  const witnessed = async () => {
    const origin = (await get(svc.url, CHECKPOINT, org.keys.owner)).text.split('\n')[0]!;
    const hash = crypto.createHash('sha256').update(origin).digest('hex');
    return sizeOf(await (await fetch(`${witness.url}/${hash}/checkpoint`)).text());
  };
  const waitWitnessed = async (size: number) => {
    for (let i = 0; i < 100 && (await witnessed().catch(() => 0)) !== size; i++)
      await new Promise((r) => setTimeout(r, 200));
    expect(await witnessed()).to.equal(size);
  };

  before(async () => {
    const probe = await startReadService({ AUDIT_SEALING: 'false' });
    const probeOrg = await createOrg(probe.ctx);
    const logVkey = (await get(probe.url, '/api/v1/audit-logs/integrity/public-key', probeOrg.keys.owner))
      .body.verifierKey;
    await probe.close();
    witness = await startWitness(path.join(dir, 'witness'), logVkey);
    svc = await startReadService({
      AUDIT_SEAL_INTERVAL_SECONDS: '60',
      AUDIT_WITNESSES: `${witness.url}=${witness.vkey}`,
      AUDIT_WITNESS_INTERVAL_SECONDS: '1',
    });
    org = await createOrg(svc.ctx);
    firstIds.push(...(await batch(5, 1)));
    await batch(5, 2);
  });
  after(async () => {
    await svc?.close();
    witness?.child.kill('SIGTERM');
  });

  it('rewrites a sealed event and re-signs everything: the witness refuses, the monitor exits 2', async () => {
    const honest = (await get(svc.url, CHECKPOINT, org.keys.owner)).text;
    await waitWitnessed(sizeOf(honest));
    const state = path.join(dir, 'rewrite.json');
    expect((await monitor(state)).code).to.equal(0);
    const honestRun = await verifyWithWitness();
    expect(honestRun.code, honestRun.stdout + honestRun.stderr).to.equal(0);

    await rewriteDayIndex(svc.store, dayIndex(`${day}T00:00:00Z`), [org.orgId], (docs) =>
      docs.map((d) => (d.id === firstIds[2] ? { ...d, description: 'nothing happened here' } : d)),
    );
    await resealChain(svc.store, org.orgId, testKey);
    await rebuildOrgTree(svc.ctx, org.orgId);
    // The forged tree grows on, and its newest checkpoint goes to the witness like any other.
    await batch(3, 3);
    const forged = (await get(svc.url, CHECKPOINT, org.keys.owner)).text;
    expect(sizeOf(forged)).to.equal(sizeOf(honest) + 3);
    await new Promise((r) => setTimeout(r, 3000)); // a few witnessing rounds
    expect(await witnessed()).to.equal(sizeOf(honest));
    expect(forged).not.to.contain(`— ${witness.vkey.split('+')[0]} `);

    const caught = await monitor(state);
    expect(caught.code).to.equal(2);
    expect(caught.out).to.contain(
      `at size ${sizeOf(forged)} is not an extension of the checkpoint kept at size ${sizeOf(honest)}`,
    );
    // The seals and tree are consistent again, so verify alone is clean; the witness's word is not.
    const verified = await verifyWithWitness();
    expect(verified.code, verified.stdout + verified.stderr).to.equal(2);
    expect(verified.stdout).to.contain(`[witness-fork]`);
    expect(verified.stdout).to.contain(`cosigned size ${sizeOf(honest)} with root`);
  });

  it('rolls back the newest seals: the monitor exits 2 naming both sizes', async () => {
    const state = path.join(dir, 'rollback.json');
    const newest = (await get(svc.url, CHECKPOINT, org.keys.owner)).text;
    expect((await monitor(state)).code).to.equal(0);
    // The attacker's service serves a smaller tree: its sealer no longer heals the tree from the seals, and
    // the newest head is gone (with its seal and events, in a real rollback).
    svc.sealer?.halt();
    await svc.store.indices.refresh({ index: INTERNAL.treeHeads });
    const heads = await svc.store.search({
      index: INTERNAL.treeHeads,
      body: { size: 1, query: { term: { orgId: org.orgId } }, sort: [{ seq: 'desc' }] },
    });
    const id = (heads.body as { hits: { hits: { _id: string }[] } }).hits.hits[0]!._id;
    await svc.store.delete({ index: INTERNAL.treeHeads, id, refresh: true });
    const older = (await get(svc.url, CHECKPOINT, org.keys.owner)).text;
    expect(sizeOf(older)).to.be.below(sizeOf(newest));
    const caught = await monitor(state);
    expect(caught.code).to.equal(2);
    expect(caught.out).to.contain(
      `at size ${sizeOf(older)} is not an extension of the checkpoint kept at size ${sizeOf(newest)}: a rollback`,
    );

    // The seals go too, down below what the witness cosigned: verify --witness names the rollback.
    await svc.store.indices.refresh({ index: INTERNAL.seals });
    const seals = await svc.store.search({
      index: INTERNAL.seals,
      body: { size: 2, query: { term: { orgId: org.orgId } }, sort: [{ seq: 'desc' }], _source: false },
    });
    for (const hit of (seals.body as { hits: { hits: { _id: string }[] } }).hits.hits)
      await svc.store.delete({ index: INTERNAL.seals, id: hit._id, refresh: true });
    const verified = await verifyWithWitness();
    expect(verified.code, verified.stdout + verified.stderr).to.equal(2);
    expect(verified.stdout).to.match(
      /\[witness-rollback\] witness \S+ cosigned size \d+; the seals now give a tree of only \d+/,
    );
  });
});
