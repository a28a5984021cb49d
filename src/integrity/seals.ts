/** Reading seals and ledger entries of one org (index INTERNAL.seals and INTERNAL.ledger). */
import type { LedgerEntry } from '../ingest/ingest.ts';
import { getSource, type Store } from '../store/client.ts';
import { INTERNAL } from '../store/names.ts';
import { sealId, type Seal } from './checkpoint.ts';

/** A ledger entry as the sealer leaves it: `seal` says which seal and which leaf hold the event. */
export type LedgerDoc = Omit<LedgerEntry, 'sealed'> & {
  sealed: boolean;
  seal?: { seq: number; leaf: number };
};

/** The lists a seal document carries besides its checkpoint (left out where only checkpoints are needed). */
export const SEAL_LISTS = ['eventIds', 'leaves', 'storedHashes'];

export async function getSeal(store: Store, orgId: string, seq: number): Promise<Seal | undefined> {
  return getSource<Seal>(store, INTERNAL.seals, sealId(orgId, seq));
}

/**
 * The org's newest seal. Search finds it up to the refresh lag; realtime GETs of the following seqs then
 * catch a seal written since, so a sealer never builds on a stale head.
 */
export async function newestSeal(store: Store, orgId: string): Promise<Seal | undefined> {
  const res = await store.search({
    index: INTERNAL.seals,
    body: { size: 1, query: { term: { orgId } }, sort: [{ seq: 'desc' }], _source: false },
  });
  const hits = (res.body as { hits: { hits: { sort: number[] }[] } }).hits.hits;
  let seq = hits[0]?.sort[0] ?? 0;
  let seal = seq > 0 ? await getSeal(store, orgId, seq) : undefined;
  for (;;) {
    const next = await getSeal(store, orgId, seq + 1);
    if (!next) return seal;
    seal = next;
    seq += 1;
  }
}

/** The org's seals in seq order, a page at a time (with or without their lists). */
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
    const hits = (res.body as { hits: { hits: { _source: Seal }[] } }).hits.hits;
    for (const h of hits) yield h._source;
    if (hits.length < (opts.pageSize ?? 200)) return;
    after = hits[hits.length - 1]!._source.seq;
  }
}
