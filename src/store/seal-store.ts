/** The seals repository (index INTERNAL.seals): every query of the seal documents, every cast of the answers. */
import { allBuckets, getMany, getSource, guarded, statusOf, type Store } from './client.ts';
import type { SealCursor } from './ledger-store.ts';
import { INTERNAL, MAX_QUERY_CLAUSES } from './names.ts';
import {
  dayIndicesOf,
  sealId,
  unpackSeal,
  type Checkpoint,
  type Seal,
  type SealDoc,
  type SealHead,
} from './seal-doc.ts';

/** The packed lists: what a seal's head leaves out (the sealer needs only the event ids of a late head). */
const PACKED_LISTS = ['packedLeaves', 'packedStoredHashes', 'storedHashRuns', 'dayRuns'];
/** The lists a seal document carries besides its checkpoint (left out where only checkpoints are needed). */
export const SEAL_LISTS = ['eventIds', ...PACKED_LISTS];

/** A seal's checkpoint and its leaves as they are stored, 32 bytes each: all the org tree takes from it. */
export type SealLeaves = Omit<
  SealDoc,
  'eventIds' | 'packedLeaves' | 'packedStoredHashes' | 'storedHashRuns' | 'dayRuns'
> & {
  packed: Buffer;
};
const NOT_FOR_TREE = ['eventIds', 'packedStoredHashes', 'storedHashRuns', 'dayRuns'];
const sealLeaves = (doc: SealDoc): SealLeaves => {
  const {
    eventIds: _ids,
    packedLeaves,
    packedStoredHashes: _h,
    storedHashRuns: _r,
    dayRuns: _d,
    ...rest
  } = doc;
  return { ...rest, packed: Buffer.from(typeof packedLeaves === 'string' ? packedLeaves : '', 'base64') };
};

/** The leaves of the org's seals after `afterSeq` that search finds, in seq order, a page at a time. */
export async function* sealLeavesAfter(
  store: Store,
  orgId: string,
  afterSeq: number,
  pageSize: number,
): AsyncGenerator<SealLeaves> {
  let after = afterSeq;
  for (;;) {
    const res = await guarded(
      store.search({
        index: INTERNAL.seals,
        body: {
          size: pageSize,
          query: { bool: { filter: [{ term: { orgId } }, { range: { seq: { gt: after } } }] } },
          sort: [{ seq: 'asc' }],
          _source: { excludes: NOT_FOR_TREE },
        },
      }),
    );
    const hits = (res.body as { hits: { hits: { _source: SealDoc }[] } }).hits.hits;
    for (const h of hits) yield sealLeaves(h._source);
    if (hits.length < pageSize) return;
    after = hits[hits.length - 1]!._source.seq;
  }
}

/** One seal's leaves by realtime GET (a seal written since the last refresh), or undefined. */
export async function getSealLeaves(
  store: Store,
  orgId: string,
  seq: number,
): Promise<SealLeaves | undefined> {
  const doc = await getSource<SealDoc>(store, INTERNAL.seals, sealId(orgId, seq), { excludes: NOT_FOR_TREE });
  return doc && sealLeaves(doc);
}

/** Makes every seal written so far searchable. */
export async function refreshSeals(store: Store): Promise<void> {
  await guarded(store.indices.refresh({ index: INTERNAL.seals }));
}

export async function getSeal(store: Store, orgId: string, seq: number): Promise<Seal | undefined> {
  const doc = await getSource<SealDoc>(store, INTERNAL.seals, sealId(orgId, seq));
  return doc && unpackSeal(doc);
}

/** A seal without its leaves and storedHashes (neither read nor unpacked). */
export async function getSealHead(store: Store, orgId: string, seq: number): Promise<SealHead | undefined> {
  return getSource<SealHead>(store, INTERNAL.seals, sealId(orgId, seq), { excludes: PACKED_LISTS });
}

type SealIds = Pick<SealDoc, 'eventIds' | 'dayRuns'>;
const SEAL_IDS = ['eventIds', 'dayRuns'];

/** A seal's event ids in leaf order and, where it names them, their day indices; undefined: no such seal (yet). */
export async function getSealEventIds(store: Store, orgId: string, seq: number) {
  const seal = await getSource<SealIds>(store, INTERNAL.seals, sealId(orgId, seq), { includes: SEAL_IDS });
  const eventIds = seal?.eventIds ?? [];
  return seal && { eventIds, indices: dayIndicesOf({ eventIds, dayRuns: seal.dayRuns }) };
}

/** Whether the org's seal `seq` exists (a realtime GET that reads none of its lists). */
export const sealExists = async (store: Store, orgId: string, seq: number) =>
  (await getSource(store, INTERNAL.seals, sealId(orgId, seq), { includes: ['seq'] })) !== undefined;

/** Creates a seal document under its seq; false when one is there already (another sealer took the seq). */
export async function createSeal(store: Store, doc: SealDoc): Promise<boolean> {
  try {
    await guarded(
      store.create({
        index: INTERNAL.seals,
        id: sealId(doc.orgId, doc.seq),
        body: doc,
        // No refresh needed: newestSeal() finds a seal not yet searchable with a realtime GET of the next seq.
      }),
    );
    return true;
  } catch (err) {
    if (statusOf(err) === 409) return false;
    throw err;
  }
}

/**
 * The org's newest seal. Search finds it up to the refresh lag; realtime GETs of the following seqs then
 * catch a seal written since, so a sealer never builds on a stale head.
 */
export async function newestSeal(store: Store, orgId: string): Promise<SealHead | undefined> {
  const res = await guarded(
    store.search({
      index: INTERNAL.seals,
      body: { size: 1, query: { term: { orgId } }, sort: [{ seq: 'desc' }], _source: false },
    }),
  );
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
    const res = await guarded(
      store.search({
        index: INTERNAL.seals,
        body: {
          size: opts.pageSize ?? 200,
          query: { bool: { filter: [{ term: { orgId } }, { range: { seq: { gt: after } } }] } },
          sort: [{ seq: 'asc' }],
          ...(opts.withLists ? {} : { _source: { excludes: SEAL_LISTS } }),
        },
      }),
    );
    const hits = (res.body as { hits: { hits: { _source: SealDoc }[] } }).hits.hits;
    for (const h of hits) yield opts.withLists ? unpackSeal(h._source) : (h._source as unknown as Seal);
    if (hits.length < (opts.pageSize ?? 200)) return;
    after = hits[hits.length - 1]!._source.seq;
  }
}

/** Up to `size` of the org's checkpoints after seq `after` that search finds, in seq order. */
export async function checkpointsAfter(
  store: Store,
  orgId: string,
  after: number,
  size: number,
): Promise<Checkpoint[]> {
  const found = await guarded(
    store.search({
      index: INTERNAL.seals,
      body: {
        size,
        query: { bool: { filter: [{ term: { orgId } }, { range: { seq: { gt: after } } }] } },
        sort: [{ seq: 'asc' }],
        _source: { excludes: SEAL_LISTS },
      },
    }),
  );
  return (found.body as { hits: { hits: { _source: Checkpoint }[] } }).hits.hits.map((h) => h._source);
}

/** The first 20 walk seals (not late ones) of the org that search finds spanning `acceptedAt`, in seq order. */
export async function walkSealsSpanning(store: Store, orgId: string, acceptedAt: string): Promise<SealDoc[]> {
  const res = await guarded(
    store.search({
      index: INTERNAL.seals,
      body: {
        size: 20,
        query: {
          bool: {
            filter: [
              { term: { orgId } },
              { range: { firstAcceptedAt: { lte: acceptedAt } } },
              { range: { lastAcceptedAt: { gte: acceptedAt } } },
            ],
            must_not: [{ term: { late: true } }],
          },
        },
        sort: [{ seq: 'asc' }],
      },
    }),
  );
  return (res.body as { hits: { hits: { _source: SealDoc }[] } }).hits.hits.map((h) => h._source);
}

/**
 * The seq and event ids of every seal of the org that search finds spanning one of these acceptedAt values,
 * in seq order within each group of times (a seal may come once per group).
 */
export async function* sealListsSpanning(
  store: Store,
  orgId: string,
  times: string[],
): AsyncGenerator<{ seq: number; eventIds: string[] }> {
  const page = 20;
  for (let i = 0; i < times.length; i += MAX_QUERY_CLAUSES) {
    const should: object[] = times.slice(i, i + MAX_QUERY_CLAUSES).map((at) => ({
      bool: {
        filter: [{ range: { firstAcceptedAt: { lte: at } } }, { range: { lastAcceptedAt: { gte: at } } }],
      },
    }));
    for (let after: number | undefined; ;) {
      const res = await guarded(
        store.search({
          index: INTERNAL.seals,
          body: {
            size: page,
            query: { bool: { filter: [{ term: { orgId } }], should, minimum_should_match: 1 } },
            sort: [{ seq: 'asc' }],
            _source: ['seq', 'eventIds'],
            ...(after === undefined ? {} : { search_after: [after] }),
          },
        }),
      );
      const hits = (res.body as { hits: { hits: { _source: { seq: number; eventIds: string[] } }[] } }).hits
        .hits;
      for (const { _source: seal } of hits) yield seal;
      if (hits.length < page) break;
      after = hits[hits.length - 1]!._source.seq;
    }
  }
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
    const docs = await getMany<{ cursor?: SealCursor }>(
      store,
      chunk.map(([orgId, seq]) => ({ _index: INTERNAL.seals, _id: sealId(orgId, seq) })),
      { source: ['cursor'] },
    );
    chunk.forEach(([orgId], k) => out.set(orgId, docs[k]?.cursor));
  }
  return out;
}

/** The seq of the org's first seal written at or after `iso` (searchable seals only), or undefined. */
export async function firstSealSince(store: Store, orgId: string, iso: string): Promise<number | undefined> {
  await refreshSeals(store);
  const res = await store.search({
    index: INTERNAL.seals,
    body: {
      size: 1,
      query: { bool: { filter: [{ term: { orgId } }, { range: { sealedAt: { gte: iso } } }] } },
      sort: [{ seq: 'asc' }],
      _source: false,
    },
  });
  const hits = (res.body as { hits: { hits: { sort: number[] }[] } }).hits.hits;
  return hits[0]?.sort[0];
}
