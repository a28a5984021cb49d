/**
 * The sealer when a producer's retry re-stamps a ledger entry (ingest.ts `renew`) although the first attempt's
 * event did land: the entry then names another acceptedAt than its event. Such an event must be sealed once,
 * and the org must go on being sealed.
 */
import { expect } from 'chai';
import { iterateSeals } from '../../src/integrity/seals.ts';
import { ledgerEntryOf, type LedgerDoc } from '../../src/integrity/ledger.ts';
import { verifyOrg } from '../../src/integrity/verify.ts';
import { Written } from '../../src/integrity/written.ts';
import type { StoredEvent } from '../../src/events/schema.ts';
import type { Store } from '../../src/store/client.ts';
import { eventDocId, INTERNAL } from '../../src/store/names.ts';
import { ingestSample, integrityCtx, testKey, testSealer, unsealedCount } from '../fixtures/integrity.ts';

/** What the write path's renew does to an entry: the same entry, accepted now, without a leaf. */
async function restamp(store: Store, orgId: string, eventId: string): Promise<void> {
  const id = eventDocId(orgId, eventId);
  const res = await store.get({ index: INTERNAL.ledger, id });
  const entry = (res.body as { _source: LedgerDoc })._source;
  const renewed = { ...entry, acceptedAt: new Date().toISOString() } as unknown as StoredEvent;
  renewed.id = eventId;
  await store.index({
    index: INTERNAL.ledger,
    id,
    body: ledgerEntryOf(renewed, entry.index),
    refresh: true,
  });
}

/** Where each event id is listed, over all seals of the org. */
async function sealedAt(store: Store, orgId: string): Promise<Map<string, number[]>> {
  await store.indices.refresh({ index: INTERNAL.seals });
  const where = new Map<string, number[]>();
  for await (const s of iterateSeals(store, orgId, { withLists: true })) {
    for (const id of s.eventIds) where.set(id, [...(where.get(id) ?? []), s.seq]);
  }
  return where;
}

describe('integrity: retries that re-stamp a ledger entry', function () {
  this.timeout(120_000);
  const ctx = integrityCtx();
  after(() => ctx.store.close());

  async function sealRounds(sealer: ReturnType<typeof testSealer>, orgId: string, rounds: number) {
    for (let i = 0; i < rounds; i++) await sealer.sealOrg(orgId);
  }

  it('does not seal again an event whose entry was re-stamped after it was sealed', async () => {
    const { orgId, ids } = await ingestSample(ctx, 3);
    const sealer = testSealer(ctx);
    await sealRounds(sealer, orgId, 1);
    await restamp(ctx.store, orgId, ids[1]!);
    await sealRounds(sealer, orgId, 3);
    const where = await sealedAt(ctx.store, orgId);
    expect(ids.map((id) => where.get(id)?.length)).to.deep.equal([1, 1, 1]);
    expect(await unsealedCount(ctx.store, orgId)).to.equal(0);
    const report = await verifyOrg(ctx.store, { orgId, publicKey: testKey, lateGraceMs: 600_000 });
    expect(report.problems).to.deep.equal([]);
    // Its entry now says where it is sealed, so proofs find it under its new acceptedAt too.
    const entry = (await ctx.store.get({ index: INTERNAL.ledger, id: eventDocId(orgId, ids[1]!) })).body as {
      _source: LedgerDoc;
    };
    expect(entry._source.seal?.seq).to.equal(where.get(ids[1]!)![0]);
  });

  it('seals once, and goes on sealing, when an entry its own write path handed over is re-stamped', async () => {
    const self = { ...ctx, written: new Written() };
    self.written.leading = true;
    const { orgId, day } = await ingestSample(ctx, 0);
    const a = await ingestSample(self, 3, day, orgId);
    await restamp(ctx.store, orgId, a.ids[2]!);
    const sealer = testSealer(self);
    await sealRounds(sealer, orgId, 3);
    // Later events of the org are still sealed.
    const b = await ingestSample(self, 2, day, orgId);
    await sealRounds(sealer, orgId, 2);
    const where = await sealedAt(ctx.store, orgId);
    expect([...a.ids, ...b.ids].map((id) => where.get(id)?.length)).to.deep.equal([1, 1, 1, 1, 1]);
    expect(await unsealedCount(ctx.store, orgId)).to.equal(0);
    const report = await verifyOrg(ctx.store, { orgId, publicKey: testKey, lateGraceMs: 600_000 });
    expect(report.problems).to.deep.equal([]);
  });
});
