/**
 * The sealer's queries of the ledger for its walk and its in-memory path (src/integrity/sealer/): spans,
 * histograms and windows of the unmarked entries after a cursor, and the counts that prove what a range holds.
 */
import { guarded, type Store } from './client.ts';
import { MARKED, unmarkedBetween, type LedgerEntry, type SealCursor } from './ledger-store.ts';
import { INTERNAL } from './names.ts';

/** The count and idHash sum of the org's unmarked entries with keys in (cursor, last]. */
export async function unmarkedTotals(
  store: Store,
  orgId: string,
  cursor: SealCursor | undefined,
  last: SealCursor,
): Promise<{ count: number; sum: number }> {
  const { total, aggregations } = await aggregateLedger<{ ids: { value: number } }>(
    store,
    { bool: { filter: [{ term: { orgId } }, unmarkedBetween(cursor, last)] } },
    { ids: { sum: { field: 'idHash' } } },
  );
  return { count: total, sum: aggregations!.ids.value };
}

/**
 * In one view of the ledger: how many of the org's entries have an acceptedAt in [first, last], and how many
 * of those are unmarked with keys in (cursor, lastKey].
 */
export async function spanTotals(
  store: Store,
  orgId: string,
  acceptedAt: { first: string; last: string },
  cursor: SealCursor | undefined,
  lastKey: SealCursor,
): Promise<{ span: number; unmarked: number }> {
  const { total, aggregations } = await aggregateLedger<{ batch: { doc_count: number } }>(
    store,
    spanQuery(orgId, acceptedAt),
    { batch: { filter: unmarkedBetween(cursor, lastKey) } },
  );
  return { span: total, unmarked: aggregations!.batch.doc_count };
}

/**
 * The aggregations `aggs` asks for over the ledger entries matching `query`, and how many match (exactly when
 * `countAll`, else 0): every count and span the sealer reads of the ledger.
 */
async function aggregateLedger<A>(
  store: Store,
  query: object,
  aggs: object,
  countAll = true,
): Promise<{ total: number; aggregations: A | undefined }> {
  const res = await guarded(
    store.search({
      index: INTERNAL.ledger,
      body: { size: 0, track_total_hits: countAll, query, aggs },
    } as never),
  );
  const body = res.body as unknown as { hits: { total?: { value: number } }; aggregations?: A };
  return { total: body.hits.total?.value ?? 0, aggregations: body.aggregations };
}

/** Query: the org's documents with an acceptedAt in [first, last] (ledger entries, or events). */
export function spanQuery(orgId: string, acceptedAt: { first: string; last: string }): object {
  return {
    bool: {
      filter: [
        { term: { orgId } },
        { range: { acceptedAt: { gte: acceptedAt.first, lte: acceptedAt.last } } },
      ],
    },
  };
}

/** Where a batch of the walk ends: before `lt`, or at `lte` (the round's cutoff). */
export type WalkWindow = { lt: string } | { lte: string };

/** Query: the org's unmarked entries in the window, from the cursor's acceptedAt on. */
function walkQuery(orgId: string, cursor: SealCursor | undefined, window: WalkWindow): object {
  return {
    bool: {
      filter: [
        { term: { orgId } },
        { range: { acceptedAt: { ...window, ...(cursor ? { gte: cursor.acceptedAt } : {}) } } },
      ],
      must_not: MARKED,
    },
  };
}

/** The first and last acceptedAt (epoch ms) of the walk's entries in the window; undefined when it has none. */
export async function walkSpan(
  store: Store,
  orgId: string,
  cursor: SealCursor | undefined,
  window: WalkWindow,
): Promise<{ first: number; last: number } | undefined> {
  type Span = { first: { value: number | null }; last: { value: number | null } };
  const { aggregations } = await aggregateLedger<Span>(
    store,
    walkQuery(orgId, cursor, window),
    { first: { min: { field: 'acceptedAt' } }, last: { max: { field: 'acceptedAt' } } },
    false,
  );
  const { first, last } = aggregations!;
  if (first.value === null || last.value === null) return undefined;
  return { first: first.value, last: last.value };
}

/** The non-empty buckets (start in epoch ms, entries) of a histogram of the walk's entries in the window. */
export async function walkHistogram(
  store: Store,
  orgId: string,
  cursor: SealCursor | undefined,
  window: WalkWindow,
  bucket: { intervalMs: number; offsetMs: number },
): Promise<{ key: number; doc_count: number }[]> {
  const { aggregations } = await aggregateLedger<{ t: { buckets: { key: number; doc_count: number }[] } }>(
    store,
    walkQuery(orgId, cursor, window),
    {
      t: {
        date_histogram: {
          field: 'acceptedAt',
          fixed_interval: `${bucket.intervalMs}ms`,
          offset: `${bucket.offsetMs}ms`,
          min_doc_count: 1,
        },
      },
    },
    false,
  );
  return aggregations?.t.buckets ?? [];
}

/**
 * Up to `size` of the walk's entries in the window: in index order, or `sorted` in key order after the
 * cursor (search_after).
 */
export async function walkEntries(
  store: Store,
  orgId: string,
  cursor: SealCursor | undefined,
  window: WalkWindow,
  size: number,
  sorted = false,
): Promise<LedgerEntry[]> {
  const res = await guarded(
    store.search({
      index: INTERNAL.ledger,
      body: {
        size,
        query: walkQuery(orgId, cursor, window),
        track_total_hits: false,
        ...(!sorted
          ? { sort: ['_doc'] }
          : {
              sort: [{ acceptedAt: 'asc' }, { eventId: 'asc' }],
              ...(cursor ? { search_after: [Date.parse(cursor.acceptedAt), cursor.eventId] } : {}),
            }),
      },
      // Only the sources, whole: a batch is thousands of hits, and picking fields out of each source costs
      // OpenSearch more than sending the few it does not need; parsing hit metadata would cost us more.
      filter_path: ['hits.hits._source'],
    }),
  );
  return ((res.body as { hits?: { hits: { _source: LedgerEntry }[] } }).hits?.hits ?? []).map(
    (h) => h._source,
  );
}
