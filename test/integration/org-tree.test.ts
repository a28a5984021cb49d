/**
 * One append-only tree per org, as a customer's auditor checks it with code that is not ours (Go's
 * sumdb/note and sumdb/tlog): signed-note checkpoints, consistency between two of them, and an entry's
 * inclusion in the newest, all through the API.
 */
import { expect } from 'chai';
import { runExample } from '../fixtures/examples.ts';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_LOG_ORIGIN } from '../../src/config.ts';
import { leafHashOf } from '../../src/integrity/leaf.ts';
import { merkleRoot } from '../../src/integrity/merkle.ts';
import { iterateSeals } from '../../src/integrity/seals.ts';
import { TREE_SEALS_PER_ROUND } from '../../src/integrity/sealer/sealer-context.ts';
import { dayIndex, INTERNAL } from '../../src/store/names.ts';
import { rebuildOrgTree, sealAll, testSealer, uniqueDay } from '../fixtures/integrity.ts';
import {
  createOrg,
  get,
  ingestSealed,
  startReadService,
  type ReadService,
  type TestOrg,
} from '../fixtures/read.ts';
import { independentCheck } from '../independent/tlogcheck.ts';

const CHECKPOINT = '/api/v1/audit-logs/integrity/checkpoint';

describe('integrity: one tree per org, checked by an independent implementation', function () {
  this.timeout(180_000);
  let svc: ReadService;
  let org: TestOrg;
  let vkey: string;
  const day = uniqueDay();

  const batch = (n: number, hour: number) => ingestSealed(svc.ctx, org.orgId, day, n, hour);

  const lines = (note: string) => note.split('\n');
  /** Every leaf of the org in seal order, read from the seals themselves, with the event ids. */
  const allLeaves = async (ids: string[] = []) => {
    const out: string[] = [];
    for await (const s of iterateSeals(svc.store, org.orgId, { withLists: true })) {
      out.push(...s.leaves);
      ids.push(...s.eventIds);
    }
    return out;
  };

  before(async () => {
    svc = await startReadService({ AUDIT_SEAL_INTERVAL_SECONDS: '60' });
    org = await createOrg(svc.ctx);
    vkey = (await get(svc.url, '/api/v1/audit-logs/integrity/public-key', org.keys.owner)).body.verifierKey;
  });
  after(() => svc.close());

  it('answers no checkpoint before anything is sealed', async () => {
    const r = await get(svc.url, CHECKPOINT, org.keys.owner);
    expect(r.status).to.equal(404);
  });

  it('signs a checkpoint of the whole org after each seal, in the C2SP format Go sumdb/note opens', async () => {
    await batch(3, 1);
    const r = await get(svc.url, CHECKPOINT, org.keys.owner);
    expect(r.status).to.equal(200);
    expect(r.headers.get('content-type')).to.equal('text/plain; charset=utf-8');
    const leaves = await allLeaves();
    const root = Buffer.from(merkleRoot(leaves), 'hex').toString('base64');
    expect(lines(r.text).slice(0, 4)).to.deep.equal([
      `${DEFAULT_LOG_ORIGIN}/${org.orgId}`,
      String(leaves.length),
      root,
      '',
    ]);
    expect(vkey.startsWith(`${DEFAULT_LOG_ORIGIN}/${org.orgId}+`)).to.equal(true);
    expect(independentCheck([{ kind: 'note', vkey, note: r.text, root }]).lines).to.deep.equal(['0 note ok']);
  });

  it('proves each checkpoint consistent with the next, and an entry included in the newest', async () => {
    const first = (await get(svc.url, CHECKPOINT, org.keys.owner)).text;
    const ids = await batch(300, 2);
    await batch(5, 3);
    const newest = (await get(svc.url, CHECKPOINT, org.keys.owner)).text;
    const [from, to] = [Number(lines(first)[1]), Number(lines(newest)[1])];
    expect(to).to.equal(from + 305);

    const cons = await get(
      svc.url,
      `/api/v1/audit-logs/integrity/consistency?from=${from}&to=${to}`,
      org.keys.owner,
    );
    expect(cons.status).to.equal(200);
    expect(cons.body.from).to.equal(from);
    expect(cons.body.to).to.equal(to);

    await svc.store.indices.refresh({ index: dayIndex(`${day}T00:00:00Z`) });
    const proof = (await get(svc.url, `/api/v1/audit-logs/${ids[7]}/proof`, org.keys.owner)).body;
    expect(proof.size).to.equal(to);
    const order: string[] = [];
    await allLeaves(order);
    expect(proof.index).to.equal(order.indexOf(ids[7]!));
    expect(proof.index).to.be.at.least(from);
    expect(proof.checkpoint).to.equal(newest);
    const leaf = Buffer.from(leafHashOf(proof.entry, proof.storedHash), 'hex').toString('base64');

    const checks = independentCheck([
      { kind: 'note', vkey, note: first },
      { kind: 'note', vkey, note: newest },
      {
        kind: 'consistency',
        from,
        to,
        fromRoot: lines(first)[2]!,
        toRoot: lines(newest)[2]!,
        proof: cons.body.proof,
      },
      {
        kind: 'inclusion',
        size: to,
        root: lines(newest)[2]!,
        index: proof.index,
        leaf,
        proof: proof.inclusion,
      },
    ]);
    expect(checks.lines).to.deep.equal(['0 note ok', '1 note ok', '2 consistency ok', '3 inclusion ok']);

    // The checkpoint of an earlier size is still served as it was signed.
    const earlier = await get(svc.url, `${CHECKPOINT}?size=${from}`, org.keys.owner);
    expect(earlier.text).to.equal(first);
    // Each listed seal says which tree size it ends and carries that checkpoint.
    const listed = (await get(svc.url, '/api/v1/audit-logs/integrity/checkpoints', org.keys.owner)).body.data;
    expect(listed.map((c: { size: number }) => c.size).at(-1)).to.equal(to);
    expect(listed.at(-1).note).to.equal(newest);
  });

  it('gives a proof as a c2sp.org/tlog-proof that the customer script checks, and refuses it when edited', async () => {
    const id = (await get(svc.url, '/api/v1/audit-logs?limit=1', org.keys.owner)).body.data[0].id;
    const r = await get(svc.url, `/api/v1/audit-logs/${id}/proof?format=tlog-proof`, org.keys.owner);
    expect(r.status).to.equal(200);
    expect(r.headers.get('content-type')).to.equal('text/plain; charset=utf-8');
    const json = (await get(svc.url, `/api/v1/audit-logs/${id}/proof`, org.keys.owner)).body;
    const [head, note] = [r.text.slice(0, r.text.indexOf('\n\n')), r.text.slice(r.text.indexOf('\n\n') + 2)];
    const [magic, extra, index, ...inclusion] = head.split('\n');
    expect(magic).to.equal('c2sp.org/tlog-proof@v1');
    expect(JSON.parse(Buffer.from(extra!.slice('extra '.length), 'base64').toString())).to.deep.equal({
      entry: json.entry,
      storedHash: json.storedHash,
    });
    expect(index).to.equal(`index ${json.index}`);
    expect(inclusion).to.deep.equal(json.inclusion);
    expect(note).to.equal(json.checkpoint);

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tlog-proof-'));
    fs.writeFileSync(path.join(dir, 'p.tlog-proof'), r.text);
    const edited = { entry: { ...json.entry, description: 'edited' }, storedHash: json.storedHash };
    fs.writeFileSync(
      path.join(dir, 'edited.tlog-proof'),
      r.text.replace(extra!, `extra ${Buffer.from(JSON.stringify(edited)).toString('base64')}`),
    );
    fs.writeFileSync(path.join(dir, 'key.json'), JSON.stringify({ verifierKey: vkey }));
    const run = async (file: string) =>
      (await runExample('verify-proof.mjs', [path.join(dir, file), path.join(dir, 'key.json')])).out;
    expect(await run('p.tlog-proof')).to.contain(`entry ${id} is leaf ${json.index} of`);
    expect(await run('edited.tlog-proof')).to.contain('the entry is not the one that was sealed');
    const bad = await get(svc.url, `/api/v1/audit-logs/${id}/proof?format=xml`, org.keys.owner);
    expect(bad.body).to.include({ code: 'invalid_parameter', param: 'format' });
  });

  it('names the parameter of a consistency or checkpoint request it cannot answer', async () => {
    const newest = Number(lines((await get(svc.url, CHECKPOINT, org.keys.owner)).text)[1]);
    const bad = async (query: string) =>
      (await get(svc.url, `/api/v1/audit-logs/integrity/${query}`, org.keys.owner)).body.param;
    expect(await bad(`consistency?from=5&to=${newest + 1}`)).to.equal('to');
    expect(await bad('consistency?from=5&to=4')).to.equal('from');
    expect(await bad('consistency?from=0&to=4')).to.equal('from');
    expect(await bad('consistency?to=4')).to.equal('from');
    expect(await bad('checkpoint?size=abc')).to.equal('size');
    expect((await get(svc.url, `${CHECKPOINT}?size=${newest + 10}`, org.keys.owner)).status).to.equal(404);
  });

  it('builds the same tree again for an org sealed before trees existed, and after an interrupted append', async () => {
    const before = (await get(svc.url, CHECKPOINT, org.keys.owner)).text;
    // As the store was before this feature: seals, and no tree.
    await rebuildOrgTree(svc.ctx, org.orgId, { seal: false });
    expect((await get(svc.url, CHECKPOINT, org.keys.owner)).status).to.equal(404);
    await sealAll(svc.ctx, org.orgId);
    expect((await get(svc.url, CHECKPOINT, org.keys.owner)).text).to.equal(before);

    // An append cut off after its tiles, before its head: the retry reads longer tiles and signs the same.
    await svc.store.indices.refresh({ index: INTERNAL.treeHeads });
    const heads = await svc.store.search({
      index: INTERNAL.treeHeads,
      body: { size: 1, query: { term: { orgId: org.orgId } }, sort: [{ seq: 'desc' }] },
    });
    const newestId = (heads.body as { hits: { hits: { _id: string }[] } }).hits.hits[0]!._id;
    await svc.store.delete({ index: INTERNAL.treeHeads, id: newestId, refresh: true });
    await sealAll(svc.ctx, org.orgId);
    expect((await get(svc.url, CHECKPOINT, org.keys.owner)).text).to.equal(before);
  });

  it('takes a long history a part per sealer round, so sealing is never held up by it', async () => {
    const long = await createOrg(svc.ctx);
    for (let hour = 0; hour < TREE_SEALS_PER_ROUND + 2; hour++)
      await ingestSealed(svc.ctx, long.orgId, day, 2, hour);
    const seals = [];
    for await (const s of iterateSeals(svc.store, long.orgId)) seals.push(s);
    expect(seals.length).to.be.greaterThan(TREE_SEALS_PER_ROUND);
    const before = (await get(svc.url, CHECKPOINT, long.keys.owner)).text;
    await rebuildOrgTree(svc.ctx, long.orgId, { seal: false });

    const sealer = testSealer(svc.ctx);
    const first = await sealer.sealOrg(long.orgId);
    expect(first.treeCatchingUp).to.equal(true);
    const partSize = seals.slice(0, TREE_SEALS_PER_ROUND).reduce((n, s) => n + s.count, 0);
    expect(Number(lines((await get(svc.url, CHECKPOINT, long.keys.owner)).text)[1])).to.equal(partSize);
    for (let round = 0; round < 5 && (await sealer.sealOrg(long.orgId)).treeCatchingUp; round++);
    expect((await get(svc.url, CHECKPOINT, long.keys.owner)).text).to.equal(before);
  });
});
