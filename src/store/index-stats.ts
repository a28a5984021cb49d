/**
 * What the lifecycle and `npm run indices` read of the indices as indices: their list, document counts and
 * sizes, the ledger entries per day index, and refreshing them. An OpenSearch that cannot answer is
 * StoreUnavailable (storageFailure); other failures pass through as the client reports them: the scripts print
 * their messages.
 */
import { guarded, type Store } from './client.ts';
import { INTERNAL } from './names.ts';

/** A day index as `_cat/indices` lists it: its document count and its size on disk in bytes. */
export interface IndexStats {
  index: string;
  docs: number;
  sizeBytes: number;
}

/** Every index matching `pattern`, closed and hidden ones included, with its document count and size. */
export async function indexStats(store: Store, pattern: string): Promise<IndexStats[]> {
  const res = await guarded(
    store.cat.indices({
      index: pattern,
      format: 'json',
      bytes: 'b',
      h: 'index,docs.count,store.size',
      expand_wildcards: 'all',
    } as never),
  );
  const rows = (res.body as unknown as { index: string; 'docs.count': string; 'store.size': string }[]) ?? [];
  return rows.map((r) => ({
    index: r.index,
    docs: Number(r['docs.count'] ?? 0),
    sizeBytes: Number(r['store.size'] ?? 0),
  }));
}

/** The names of the open indices matching `pattern`. */
export async function openIndexNames(store: Store, pattern: string): Promise<string[]> {
  const res = await guarded(
    store.cat.indices({
      index: pattern,
      format: 'json',
      h: 'index',
      expand_wildcards: 'open',
    } as never),
  );
  return ((res.body ?? []) as unknown as { index: string }[]).map((r) => r.index);
}

/** Ledger entries matching `query`, counted per day index they name (for the unsealed column of the list). */
export async function ledgerEntriesPerIndex(store: Store, query: object): Promise<Map<string, number>> {
  const res = await guarded(
    store.search({
      index: INTERNAL.ledger,
      body: { size: 0, query, aggs: { byIndex: { terms: { field: 'index', size: 10_000 } } } },
    } as never),
  );
  const buckets = ((res.body as { aggregations?: { byIndex?: { buckets?: unknown } } }).aggregations?.byIndex
    ?.buckets ?? []) as { key: string; doc_count: number }[];
  return new Map(buckets.map((b) => [b.key, b.doc_count]));
}

/** Makes every acknowledged write to `indices` visible to searches. */
export async function refreshIndices(store: Store, indices: string[]): Promise<void> {
  await guarded(store.indices.refresh({ index: indices.join(',') }));
}

/** How many documents `index` holds (searchable ones: refresh first). */
export async function countDocs(store: Store, index: string, query?: object): Promise<number> {
  const res = await guarded(store.count({ index, ...(query ? { body: { query } } : {}) }));
  return (res.body as { count: number }).count;
}
