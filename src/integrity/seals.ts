/** Reading the seals of one org (index INTERNAL.seals). */
import { allBuckets, getSource, type Store } from '../store/client.ts';
import { INTERNAL } from '../store/names.ts';
import { sealId, unpackSeal, type Seal, type SealDoc, type SealHead } from './checkpoint.ts';
import { atOrBefore, countPending, type LedgerDoc, type SealCursor } from './ledger.ts';

/** The packed lists: what a seal's head leaves out (the sealer needs only the event ids of a late head). */
const PACKED_LISTS = ['packedLeaves', 'storedHashRuns'];
/** The lists a seal document carries besides its checkpoint (left out where only checkpoints are needed). */
export const SEAL_LISTS = ['eventIds', ...PACKED_LISTS];

export async function getSeal(store: Store, orgId: string, seq: number): Promise<Seal | undefined> {
  const doc = await getSource<SealDoc>(store, INTERNAL.seals, sealId(orgId, seq));
  return doc && unpackSeal(doc);
}

/** A seal without its leaves and storedHashes (neither read nor unpacked). */
export async function getSealHead(store: Store, orgId: string, seq: number): Promise<SealHead | undefined> {
  return getSource<SealHead>(store, INTERNAL.seals, sealId(orgId, seq), { excludes: PACKED_LISTS });
}

/**
 * The org's newest seal. Search finds it up to the refresh lag; realtime GETs of the following seqs then
 * catch a seal written since, so a sealer never builds on a stale head.
 */
export async function newestSeal(store: Store, orgId: string): Promise<SealHead | undefined> {
  const res = await store.search({
    index: INTERNAL.seals,
    body: { size: 1, query: { term: { orgId } }, sort: [{ seq: 'desc' }], _source: false },
  });
  const hits = (res.body as { hits: { hits: { sort: number[] }[] } }).hits.hits;
  let seq = hits[0]?.sort[0] ?? 0;
  let seal = seq > 0 ? await getSealHead(store, orgId, seq) : undefined;
  for (;;) {
    const next = await getSealHead(store, orgId, seq + 1);
    if (!next) return seal;
    seal = next;
    seq += 1;
  }
}

/** The org's seals in seq order, a page at a time (with their lists unpacked, or without lists). */
export async function* iterateSeals(
  store: Store,
  orgId: string,
  opts: { withLists?: boolean; afterSeq?: number; pageSize?: number } = {},
): AsyncGenerator<Seal> {
  let after = opts.afterSeq ?? 0;
  for (;;) {
    const res = await store.search({
      index: INTERNAL.seals,
      body: {
        size: opts.pageSize ?? 200,
        query: { bool: { filter: [{ term: { orgId } }, { range: { seq: { gt: after } } }] } },
        sort: [{ seq: 'asc' }],
        ...(opts.withLists ? {} : { _source: { excludes: SEAL_LISTS } }),
      },
    });
    const hits = (res.body as { hits: { hits: { _source: SealDoc }[] } }).hits.hits;
    for (const h of hits) yield opts.withLists ? unpackSeal(h._source) : (h._source as unknown as Seal);
    if (hits.length < (opts.pageSize ?? 200)) return;
    after = hits[hits.length - 1]!._source.seq;
  }
}

/**
 * Where a ledger entry is sealed: its seal and leaf; 'pending' while no seal is due to hold it; 'missing'
 * when one should (a late-seal mark pointing at a seal that does not list it, or an entry behind the walk's
 * cursor that no seal lists).
 */
export async function locateEntry(
  store: Store,
  entry: LedgerDoc,
): Promise<{ seal: Seal; leaf: number } | 'pending' | 'missing'> {
  if (entry.seal) {
    const seal = await getSeal(store, entry.orgId, entry.seal.seq);
    return seal?.eventIds[entry.seal.leaf] === entry.eventId ? { seal, leaf: entry.seal.leaf } : 'missing';
  }
  if (entry.waiting) return 'pending';
  const head = await newestSeal(store, entry.orgId);
  if (!head || !atOrBefore(entry, head.cursor)) return 'pending';
  // A walk seal spans its entries' acceptance times; seals newer than the last refresh need one more look.
  for (let attempt = 0; attempt < 2; attempt++) {
    const res = await store.search({
      index: INTERNAL.seals,
      body: {
        size: 20,
        query: {
          bool: {
            filter: [
              { term: { orgId: entry.orgId } },
              { range: { firstAcceptedAt: { lte: entry.acceptedAt } } },
              { range: { lastAcceptedAt: { gte: entry.acceptedAt } } },
            ],
            must_not: [{ term: { late: true } }],
          },
        },
        sort: [{ seq: 'asc' }],
      },
    });
    for (const { _source: doc } of (res.body as { hits: { hits: { _source: SealDoc }[] } }).hits.hits) {
      const leaf = doc.eventIds.indexOf(entry.eventId);
      if (leaf >= 0) return { seal: unpackSeal(doc), leaf };
    }
    if (attempt === 0) await store.indices.refresh({ index: INTERNAL.seals });
  }
  return 'missing';
}

/** Every org's sealer cursor, from its newest searchable seal (orgs with no seal are absent). */
export async function sealCursors(store: Store): Promise<Map<string, SealCursor | undefined>> {
  const newest = (
    await allBuckets<{ key: { orgId: string }; seq: { value: number } }>(
      store,
      INTERNAL.seals,
      'orgId',
      undefined,
      { seq: { max: { field: 'seq' } } },
    )
  ).map((b): [string, number] => [b.key.orgId, b.seq.value]);
  const out = new Map<string, SealCursor | undefined>();
  for (let from = 0; from < newest.length; from += 1000) {
    const chunk = newest.slice(from, from + 1000);
    const res = await store.mget({
      index: INTERNAL.seals,
      body: { ids: chunk.map(([orgId, seq]) => sealId(orgId, seq)) },
      _source: ['cursor'],
    });
    const docs = (res.body as { docs: { _source?: { cursor?: SealCursor } }[] }).docs;
    chunk.forEach(([orgId], k) => out.set(orgId, docs[k]?._source?.cursor));
  }
  return out;
}

/** How many of the org's ledger entries no seal holds yet (refreshed first: exact at that moment). */
export async function unsealedCount(store: Store, orgId: string): Promise<number> {
  await store.indices.refresh({ index: INTERNAL.seals });
  return countPending(store, orgId, (await newestSeal(store, orgId))?.cursor);
}
