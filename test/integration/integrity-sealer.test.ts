import { expect } from 'chai';
import { checkpointSignatureValid, sealHashOf, type Seal } from '../../src/integrity/checkpoint.ts';
import { leafOfEvent } from '../../src/integrity/event-hash.ts';
import { Lease } from '../../src/integrity/lease.ts';
import { merkleRoot } from '../../src/integrity/merkle.ts';
import { compareKeys, ledgerEntryOf, type LedgerDoc } from '../../src/integrity/ledger.ts';
import { allStored } from '../../src/integrity/sealer/sealer.ts';
import { Written } from '../../src/integrity/written.ts';
import { iterateSeals } from '../../src/integrity/seals.ts';
import { verifyOrg } from '../../src/integrity/verify.ts';
import type { StoredEvent } from '../../src/events/schema.ts';
import { dayIndex, eventDocId, INTERNAL } from '../../src/store/names.ts';
import { uniqueId } from '../helpers.ts';
import {
  ingestSample,
  integrityCtx,
  sealAll,
  testKey,
  testSealer,
  unsealedCount,
} from '../fixtures/integrity.ts';

async function sealsOf(orgId: string): Promise<Seal[]> {
  const ctx = integrityCtx();
  await ctx.store.indices.refresh({ index: INTERNAL.seals });
  const out: Seal[] = [];
  for await (const s of iterateSeals(ctx.store, orgId, { withLists: true })) out.push(s);
  await ctx.store.close();
  return out;
}

/** An event as the write path would store it, not written anywhere yet. */
function slowEvent(orgId: string, day: string, acceptedAt = new Date().toISOString()): StoredEvent {
  return {
    id: uniqueId('evt_slow'),
    orgId,
    action: 'workflow.updated',
    resourceType: 'workflow',
    resourceId: 'wf_slow',
    resourceName: null,
    description: 'written late',
    actorId: null,
    actorName: null,
    actorEmail: null,
    workspaceId: null,
    metadata: {},
    createdAt: `${day}T12:00:00.000Z`,
    acceptedAt,
    ipAddress: null,
    userAgent: null,
  };
}

async function ledgerDocs(orgId: string, ids: string[]): Promise<LedgerDoc[]> {
  const ctx = integrityCtx();
  const res = await ctx.store.mget({
    index: INTERNAL.ledger,
    body: { ids: ids.map((id) => eventDocId(orgId, id)) },
  });
  await ctx.store.close();
  return (res.body as { docs: { _source: LedgerDoc }[] }).docs.map((d) => d._source);
}

/** Edits one ledger entry with a painless script, as a crashed sealer's missing write would leave it. */
async function setLedger(orgId: string, eventId: string, source: string): Promise<void> {
  const ctx = integrityCtx();
  await ctx.store.update({
    index: INTERNAL.ledger,
    id: eventDocId(orgId, eventId),
    refresh: true,
    body: { script: { source, lang: 'painless' } },
  });
  await ctx.store.close();
}

describe('integrity: the sealer', function () {
  this.timeout(120_000);
  const ctx = integrityCtx();
  after(() => ctx.store.close());

  // Walk windows are fetched whole and sorted here; one bigger than a fetch is walked with sorted searches.
  for (const [how, walkFetch] of [
    ['windows fetched whole', undefined],
    ['windows walked sorted', 3],
  ] as const)
    it(`seals every ingested event once, in acceptance order, into a signed chain of batches (${how})`, async () => {
      const { orgId, ids, day } = await ingestSample(ctx, 11);
      await sealAll(ctx, orgId, { batchCap: 4, ...(walkFetch ? { walkFetch } : {}) });
      const seals = await sealsOf(orgId);
      // 11 events plus the directory's own event for creating the org (accepted first), at most 4 per seal.
      expect(seals.map((s) => s.seq)).to.deep.equal(seals.map((_, i) => i + 1));
      expect(seals.reduce((n, s) => n + s.count, 0)).to.equal(12);
      expect(seals.every((s) => s.count <= 4 && s.count === s.eventIds.length)).to.equal(true);
      const own = (list: string[]) => list.filter((id) => !id.startsWith('dir_'));
      expect(own(seals.flatMap((s) => s.eventIds))).to.deep.equal(ids); // one ingest call: acceptedAt ties, id order
      expect(seals[0]!.prevSealHash).to.equal(null);
      for (let i = 0; i < seals.length; i++) {
        const s = seals[i]!;
        if (i > 0) expect(s.prevSealHash).to.equal(seals[i - 1]!.sealHash);
        expect(s.sealHash).to.equal(sealHashOf(s));
        expect(checkpointSignatureValid(s, testKey)).to.equal(true);
        expect(s.root).to.equal(merkleRoot(s.leaves));
      }
      // The leaves are those of the stored events; the ledger, which carries them from ingest, is not written
      // again (no marks), and the newest seal remembers the last entry its walk passed.
      const events = await ctx.store.mget({
        index: dayIndex(`${day}T00:00:00Z`),
        body: { ids: ids.map((id) => eventDocId(orgId, id)) },
      });
      const docs = (events.body as { docs: { _source: StoredEvent }[] }).docs.map((d) => d._source);
      const leafOf = new Map(seals.flatMap((s) => s.eventIds.map((id, k) => [id, s.leaves[k]] as const)));
      expect(docs.map((d) => leafOfEvent(d).leaf)).to.deep.equal(ids.map((id) => leafOf.get(id)));
      const ledger = await ledgerDocs(orgId, ids);
      expect(ledger.map((d) => d.leaf)).to.deep.equal(ids.map((id) => leafOf.get(id)));
      expect(ledger.filter((d) => d.seal || d.sealed || d.waiting)).to.deep.equal([]);
      const last = ledger[ledger.length - 1]!;
      expect(seals[seals.length - 1]!.cursor).to.deep.equal({
        acceptedAt: last.acceptedAt,
        eventId: last.eventId,
      });
      // Nothing left: another pass creates no seal.
      expect((await testSealer(ctx).sealOrg(orgId)).sealed).to.deep.equal([]);
      expect(await unsealedCount(ctx.store, orgId)).to.equal(0);
    });

  it('seals events ingested with sealing off (no leaf in the ledger) from the events themselves', async () => {
    const off = { ...ctx, cfg: { ...ctx.cfg, sealing: false } };
    const { orgId, ids } = await ingestSample(off, 3);
    expect((await ledgerDocs(orgId, ids)).map((d) => d.leaf)).to.deep.equal([
      undefined,
      undefined,
      undefined,
    ]);
    await sealAll(ctx, orgId);
    const report = await verifyOrg(ctx.store, { orgId, publicKey: testKey, lateGraceMs: 600_000 });
    expect(report.problems).to.deep.equal([]);
    expect(report.events.sealedChecked).to.equal(4);
  });

  it('seals what its own write path stored without reading the ledger back, and walks what others wrote', async () => {
    // One process whose sealer leads: its write path hands what it stored to that sealer. `ctx` plays
    // another instance.
    const self = { ...ctx, written: new Written() };
    self.written.leading = true;
    const { orgId, day } = await ingestSample(ctx, 0);
    await sealAll(ctx, orgId); // the directory's event for creating the org, written by "another instance"
    const sealer = testSealer(self);
    const a = await ingestSample(self, 5, day, orgId);
    const r1 = await sealer.sealOrg(orgId);
    expect(r1.sealed.map((s) => s.count)).to.deep.equal([5]);
    expect(r1.walked).to.equal(0);
    // Another instance's events between this one's: the count disagrees, the walk seals both in key order.
    const b = await ingestSample(ctx, 2, day, orgId);
    const c = await ingestSample(self, 3, day, orgId);
    const r2 = await sealer.sealOrg(orgId);
    expect(r2.sealed.map((s) => s.count)).to.deep.equal([5]);
    expect(r2.walked).to.equal(5);
    // Its own events first: sealed from memory up to the other instance's, then the walk goes on from there.
    const d = await ingestSample(self, 4, day, orgId);
    const e = await ingestSample(ctx, 1, day, orgId);
    const f = await ingestSample(self, 2, day, orgId);
    const r3 = await sealer.sealOrg(orgId);
    expect(r3.sealed.map((s) => s.count)).to.deep.equal([4, 3]);
    expect(r3.walked).to.equal(3);
    const seals = await sealsOf(orgId);
    expect(seals.slice(-4).map((s) => s.eventIds)).to.deep.equal([
      a.ids,
      [...b.ids, ...c.ids],
      d.ids,
      [...e.ids, ...f.ids],
    ]);
    expect(await unsealedCount(ctx.store, orgId)).to.equal(0);
    const report = await verifyOrg(ctx.store, { orgId, publicKey: testKey, lateGraceMs: 600_000 });
    expect(report.problems).to.deep.equal([]);
  });

  it('keeps leaves out of the ledger while its own sealer leads; a new leader hashes those events itself', async () => {
    const self = { ...ctx, written: new Written() };
    const { orgId, day } = await ingestSample(ctx, 0);
    self.written.leading = true; // what this process's sealer sets while it holds the lease
    expect(self.written.taking).to.equal(true);
    const a = await ingestSample(self, 3, day, orgId);
    expect((await ledgerDocs(orgId, a.ids)).map((d) => d.leaf)).to.deep.equal([
      undefined,
      undefined,
      undefined,
    ]);
    // It crashes before sealing them (memory lost, lease left to expire): the next leader hashes the events.
    const sealer = testSealer(self);
    sealer.halt();
    expect(self.written.leading).to.equal(false);
    const next = await testSealer(ctx).sealOrg(orgId);
    expect(next.sealed.map((s) => s.count)).to.deep.equal([4]); // with the directory's event for the org
    expect(next.walked).to.equal(4);
    const report = await verifyOrg(ctx.store, { orgId, publicKey: testKey, lateGraceMs: 600_000 });
    expect(report.problems).to.deep.equal([]);
  });

  it('takes counts as proof that a batch is stored only while the walked entries are unchanged', async () => {
    const { orgId, ids, day } = await ingestSample(ctx, 3);
    await ctx.store.indices.refresh({ index: dayIndex(`${day}T00:00:00Z`) }); // as 2 s later
    // An attempt whose ledger write was slow: its entry is visible with the request's acceptedAt, its event
    // is not written yet. The walk reads it…
    const [first] = await ledgerDocs(orgId, ids);
    const slow = slowEvent(orgId, day, first!.acceptedAt);
    const index = dayIndex(`${day}T00:00:00Z`);
    const entry = (e: StoredEvent) => ({
      index: INTERNAL.ledger,
      id: eventDocId(orgId, e.id),
      body: ledgerEntryOf(e, index, leafOfEvent(e)),
      refresh: true as const,
    });
    await ctx.store.index(entry(slow));
    const walked = [...(await ledgerDocs(orgId, ids)), (await ledgerDocs(orgId, [slow.id]))[0]!].sort(
      compareKeys,
    );
    expect(await allStored(ctx.store, orgId, undefined, walked)).to.equal(undefined); // its event is missing
    // …then the write path re-stamps it (ingest.ts, renew) before writing its event. The span's counts now
    // agree, but the walked copy (old acceptedAt, old leaf) must not be sealed.
    await ctx.store.index(entry({ ...slow, acceptedAt: new Date(Date.now() + 5000).toISOString() }));
    expect(await allStored(ctx.store, orgId, undefined, walked)).to.equal(undefined);
    // The rest of the batch is proven by the counts.
    const rest = walked.filter((e) => e.eventId !== slow.id);
    expect((await allStored(ctx.store, orgId, undefined, rest))?.map((e) => e.eventId)).to.deep.equal(ids);
  });

  it('passes an entry whose event is not written yet, seals it late once it is, and repairs a crash at either step', async () => {
    const { orgId, day } = await ingestSample(ctx, 3);
    await sealAll(ctx, orgId);
    // A write in flight: the ledger entry is stored, its event not yet. Later events are complete.
    const index = dayIndex(`${day}T00:00:00Z`);
    const slow = slowEvent(orgId, day);
    await ctx.store.index({
      index: INTERNAL.ledger,
      id: eventDocId(orgId, slow.id),
      body: ledgerEntryOf(slow, index, leafOfEvent(slow)),
      refresh: true,
    });
    const later = await ingestSample(ctx, 2, day, orgId);
    const r1 = await testSealer(ctx).sealOrg(orgId);
    expect(r1.sealed.map((s) => s.count)).to.deep.equal([2]);
    let seals = await sealsOf(orgId);
    const walked = seals[seals.length - 1]!;
    expect(walked.eventIds).to.deep.equal(later.ids);
    expect(walked.skipped).to.deep.equal([slow.id]);
    expect((await ledgerDocs(orgId, [slow.id]))[0]!.waiting).to.equal(true);

    // Killed before the waiting mark: the next pass writes it, and seals nothing.
    await setLedger(orgId, slow.id, "ctx._source.remove('waiting')");
    expect((await testSealer(ctx).sealOrg(orgId)).sealed).to.deep.equal([]);
    expect((await ledgerDocs(orgId, [slow.id]))[0]!.waiting).to.equal(true);
    expect(await unsealedCount(ctx.store, orgId)).to.equal(1);

    // The event arrives: a late seal takes it and marks its entry.
    await ctx.store.create({ index, id: eventDocId(orgId, slow.id), body: slow, refresh: true });
    const r2 = await testSealer(ctx).sealOrg(orgId);
    expect(r2.sealed).to.deep.equal([{ orgId, seq: walked.seq + 1, count: 1 }]);
    seals = await sealsOf(orgId);
    expect(seals[seals.length - 1]).to.include({ late: true, count: 1 });
    expect(seals[seals.length - 1]!.cursor).to.deep.equal(walked.cursor);
    expect((await ledgerDocs(orgId, [slow.id]))[0]).to.include({ sealed: true });
    expect((await ledgerDocs(orgId, [slow.id]))[0]!.seal).to.deep.equal({ seq: walked.seq + 1, leaf: 0 });

    // Killed before the late seal's mark: repaired, not sealed twice.
    await setLedger(orgId, slow.id, "ctx._source.remove('sealed'); ctx._source.remove('seal')");
    expect((await testSealer(ctx).sealOrg(orgId)).sealed).to.deep.equal([]);
    expect((await ledgerDocs(orgId, [slow.id]))[0]!.seal).to.deep.equal({ seq: walked.seq + 1, leaf: 0 });
    expect(await unsealedCount(ctx.store, orgId)).to.equal(0);
    const report = await verifyOrg(ctx.store, { orgId, publicKey: testKey, lateGraceMs: 600_000 });
    expect(report.problems).to.deep.equal([]);
    expect(report.events.sealedChecked).to.equal(7); // 3 + 2 + the slow one + the org's creation event
  });

  it('holds back and reports a waiting entry back-dated before the newest seal, and one whose event never appeared', async () => {
    const { orgId, day } = await ingestSample(ctx, 3);
    await sealAll(ctx, orgId);
    // An entry waiting for its event, claiming acceptance an hour before the newest seal: what a back-dated
    // insertion looks like if it also forges the mark.
    const forged = await ingestSample(ctx, 1, day, orgId);
    const old = new Date(Date.now() - 3600_000).toISOString();
    await ctx.store.update({
      index: INTERNAL.ledger,
      id: eventDocId(orgId, forged.ids[0]!),
      refresh: true,
      body: { doc: { acceptedAt: old, waiting: true } },
    });
    // An entry whose event write never happened, older than the grace period.
    const ghost = slowEvent(orgId, day, new Date(Date.now() - 600_000).toISOString());
    await ctx.store.index({
      index: INTERNAL.ledger,
      id: eventDocId(orgId, ghost.id),
      refresh: true,
      body: { ...ledgerEntryOf(ghost, dayIndex(`${day}T00:00:00Z`), leafOfEvent(ghost)), waiting: true },
    });
    const r = await testSealer(ctx, { missingEventGraceMs: 60_000 }).sealOrg(orgId);
    expect(r.sealed).to.deep.equal([]);
    expect(r.held.map((h) => [h.eventId, h.reason]).sort()).to.deep.equal(
      [
        [forged.ids[0], 'accepted-before-newest-seal'],
        [ghost.id, 'event-missing'],
      ].sort(),
    );
    expect(await unsealedCount(ctx.store, orgId)).to.equal(2);
  });

  it('lets exactly one of several instances hold the sealer lease, and another take over once it expires', async () => {
    const name = uniqueId('lease-test');
    const a = new Lease(ctx.store, name, 'a', 60_000);
    const b = new Lease(ctx.store, name, 'b', 60_000);
    const c = new Lease(ctx.store, name, 'c', 60_000);
    const won = await Promise.all([a.acquire(), b.acquire(), c.acquire()]);
    expect(won.filter(Boolean)).to.have.length(1);
    const leader = [a, b, c][won.indexOf(true)]!;
    const other = [a, b, c].find((l) => l !== leader)!;
    expect(await leader.acquire()).to.equal(true); // renewal
    expect(await other.acquire()).to.equal(false);
    expect(await other.acquire(Date.now() + 120_000)).to.equal(true); // after expiry
    await other.release();
    expect(await leader.acquire()).to.equal(true); // released: free again
    await leader.release();
  });
});
