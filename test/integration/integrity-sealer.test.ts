import { expect } from 'chai';
import { checkpointSignatureValid, sealHashOf, type Seal } from '../../src/integrity/checkpoint.ts';
import { leafOfEvent } from '../../src/integrity/leaf.ts';
import { Lease } from '../../src/integrity/lease.ts';
import { merkleRoot } from '../../src/integrity/merkle.ts';
import { iterateSeals, type LedgerDoc } from '../../src/integrity/seals.ts';
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
} from '../integrity-fixtures.ts';

async function sealsOf(orgId: string): Promise<Seal[]> {
  const ctx = integrityCtx();
  await ctx.store.indices.refresh({ index: INTERNAL.seals });
  const out: Seal[] = [];
  for await (const s of iterateSeals(ctx.store, orgId, { withLists: true })) out.push(s);
  await ctx.store.close();
  return out;
}

describe('integrity: the sealer', function () {
  this.timeout(120_000);
  const ctx = integrityCtx();
  after(() => ctx.store.close());

  it('seals every ingested event once, in acceptance order, into a signed chain of batches', async () => {
    const { orgId, ids, day } = await ingestSample(ctx, 11);
    await sealAll(ctx, orgId, { batchCap: 4 });
    const seals = await sealsOf(orgId);
    // 11 events plus the directory's own event for creating the org (accepted first), at most 4 per seal.
    expect(seals.map((s) => s.seq)).to.deep.equal([1, 2, 3]);
    expect(seals.map((s) => s.count)).to.deep.equal([4, 4, 4]);
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
    // The leaves are those of the stored events, and each ledger entry points at its seal and leaf.
    const events = await ctx.store.mget({
      index: dayIndex(`${day}T00:00:00Z`),
      body: { ids: ids.map((id) => eventDocId(orgId, id)) },
    });
    const docs = (events.body as { docs: { _source: StoredEvent }[] }).docs.map((d) => d._source);
    const leafOf = new Map(seals.flatMap((s) => s.eventIds.map((id, k) => [id, s.leaves[k]] as const)));
    expect(docs.map((d) => leafOfEvent(d).leaf)).to.deep.equal(ids.map((id) => leafOf.get(id)));
    const ledger = await ctx.store.mget({
      index: INTERNAL.ledger,
      body: { ids: ids.map((id) => eventDocId(orgId, id)) },
    });
    const marks = (ledger.body as { docs: { _source: LedgerDoc }[] }).docs.map((d) => d._source.seal);
    expect(marks[5]).to.deep.equal({ seq: 2, leaf: 2 }); // the 7th entry of the org
    expect((ledger.body as { docs: { _source: LedgerDoc }[] }).docs.every((d) => d._source.sealed)).to.equal(
      true,
    );
    // Nothing left: another pass creates no seal.
    expect((await testSealer(ctx).sealOrg(orgId)).sealed).to.deep.equal([]);
  });

  it('repairs a crash between creating a seal and marking its entries, without sealing anything twice', async () => {
    const { orgId, ids } = await ingestSample(ctx, 5);
    await sealAll(ctx, orgId);
    // The state a sealer killed right after `create` leaves: the seal exists, its entries look unsealed.
    await ctx.store.updateByQuery({
      index: INTERNAL.ledger,
      refresh: true,
      body: {
        query: { term: { orgId } },
        script: { source: "ctx._source.sealed = false; ctx._source.remove('seal')", lang: 'painless' },
      },
    });
    expect(await unsealedCount(ctx.store, orgId)).to.equal(ids.length + 1); // + the org's creation event
    const more = await ingestSample(ctx, 2, undefined, orgId);
    const r = await testSealer(ctx).sealOrg(orgId);
    expect(r.sealed).to.deep.equal([{ orgId, seq: 2, count: 2 }]);
    const seals = await sealsOf(orgId);
    expect(seals.map((s) => s.eventIds.filter((id) => !id.startsWith('dir_')))).to.deep.equal([
      ids,
      more.ids,
    ]);
    expect(await unsealedCount(ctx.store, orgId)).to.equal(0);
  });

  it('holds back and reports a back-dated ledger entry and one whose event never appeared', async () => {
    const { orgId } = await ingestSample(ctx, 3);
    await sealAll(ctx, orgId);
    const old = new Date(Date.now() - 3600_000).toISOString();
    // A ledger entry accepted an hour before the newest seal, with its event: what a back-dated insert looks like.
    const forged = await ingestSample(ctx, 1, undefined, orgId);
    await ctx.store.update({
      index: INTERNAL.ledger,
      id: `${orgId}:${forged.ids[0]}`,
      refresh: true,
      body: { doc: { acceptedAt: old } },
    });
    // A ledger entry whose event write never happened, older than the grace period.
    const ghost = uniqueId('evt_ghost');
    await ctx.store.index({
      index: INTERNAL.ledger,
      id: `${orgId}:${ghost}`,
      refresh: true,
      body: {
        orgId,
        eventId: ghost,
        index: dayIndex(old),
        createdAt: old,
        acceptedAt: new Date(Date.now() - 600_000).toISOString(),
        sealed: false,
      },
    });
    const r = await testSealer(ctx, { missingEventGraceMs: 60_000 }).sealOrg(orgId);
    expect(r.sealed).to.deep.equal([]);
    expect(r.held.map((h) => [h.eventId, h.reason]).sort()).to.deep.equal(
      [
        [forged.ids[0], 'accepted-before-newest-seal'],
        [ghost, 'event-missing'],
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
