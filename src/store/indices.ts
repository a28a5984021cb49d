/**
 * The index-management repository: what the lifecycle (sweep, `npm run indices`, `npm run retention`) asks of
 * the day indices as indices — their list, sizes and blocks, sealing and deleting them, ISM's view of them.
 * Failures pass through as the client reports them: the scripts print their messages.
 */
import { statusOf, type Store } from './client.ts';
import { INTERNAL } from './names.ts';

/** A day index as `_cat/indices` lists it: its document count and its size on disk in bytes. */
export interface IndexStats {
  index: string;
  docs: number;
  sizeBytes: number;
}

/** Every index matching `pattern`, closed and hidden ones included, with its document count and size. */
export async function indexStats(store: Store, pattern: string): Promise<IndexStats[]> {
  const res = await store.cat.indices({
    index: pattern,
    format: 'json',
    bytes: 'b',
    h: 'index,docs.count,store.size',
    expand_wildcards: 'all',
  } as never);
  const rows = (res.body as unknown as { index: string; 'docs.count': string; 'store.size': string }[]) ?? [];
  return rows.map((r) => ({
    index: r.index,
    docs: Number(r['docs.count'] ?? 0),
    sizeBytes: Number(r['store.size'] ?? 0),
  }));
}

/** The names of the open indices matching `pattern`. */
export async function openIndexNames(store: Store, pattern: string): Promise<string[]> {
  const res = await store.cat.indices({
    index: pattern,
    format: 'json',
    h: 'index',
    expand_wildcards: 'open',
  } as never);
  return ((res.body ?? []) as unknown as { index: string }[]).map((r) => r.index);
}

/**
 * The indices matching `pattern` that refuse writes (a write or read-only block). `ignoreMissing`: a pattern
 * that names a missing index (or matches none) is no error.
 */
export async function writeBlockedIndices(
  store: Store,
  pattern: string,
  { ignoreMissing = false } = {},
): Promise<Set<string>> {
  const res = await store.indices.getSettings({
    index: pattern,
    name: 'index.blocks.*',
    flat_settings: true,
    ...(ignoreMissing ? { allow_no_indices: true, ignore_unavailable: true } : {}),
  });
  const body = res.body as Record<string, { settings: Record<string, string> }>;
  return new Set(
    Object.entries(body)
      .filter(
        ([, { settings }]) =>
          settings['index.blocks.write'] === 'true' || settings['index.blocks.read_only'] === 'true',
      )
      .map(([index]) => index),
  );
}

/**
 * Which of `indices` refuse writes now (a write block, read-only, or the flood-stage read_only_allow_delete):
 * ingest refuses events for them with a 4xx rather than let the bulk fail. Missing indices refuse nothing.
 */
export async function indicesRefusingWrites(store: Store, indices: string[]): Promise<Set<string>> {
  let body: Record<string, { settings?: { index?: { blocks?: Record<string, string> } } }>;
  try {
    const res = await store.indices.getSettings({
      index: indices.join(','),
      name: 'index.blocks.*',
      ignore_unavailable: true,
      allow_no_indices: true,
    });
    body = res.body as typeof body;
  } catch (err) {
    if (statusOf(err) === 404) return new Set();
    throw err;
  }
  const out = new Set<string>();
  for (const [index, { settings }] of Object.entries(body)) {
    const blocks = settings?.index?.blocks ?? {};
    if (blocks.write === 'true' || blocks.read_only === 'true' || blocks.read_only_allow_delete === 'true') {
      out.add(index);
    }
  }
  return out;
}

/** Deletes a day index; one already gone (another instance's sweep) is what was wanted. */
export async function deleteIndex(store: Store, index: string): Promise<void> {
  await store.indices.delete({ index }, { ignore: [404] });
}

/**
 * Seals a day index: a write block, then a force merge to one segment — a sealed day never changes again, and
 * one segment is the smallest and fastest form to keep it in.
 */
export async function sealIndex(store: Store, index: string): Promise<void> {
  await store.indices.addBlock({ index, block: 'write' });
  await store.indices.forcemerge({ index, max_num_segments: 1 });
}

/** Ledger entries matching `query`, counted per day index they name (for the unsealed column of the list). */
export async function ledgerEntriesPerIndex(store: Store, query: object): Promise<Map<string, number>> {
  const res = await store.search({
    index: INTERNAL.ledger,
    body: { size: 0, query, aggs: { byIndex: { terms: { field: 'index', size: 10_000 } } } },
  } as never);
  const buckets = ((res.body as { aggregations?: { byIndex?: { buckets?: unknown } } }).aggregations?.byIndex
    ?.buckets ?? []) as { key: string; doc_count: number }[];
  return new Map(buckets.map((b) => [b.key, b.doc_count]));
}

/** Makes every acknowledged write to `indices` visible to searches. */
export async function refreshIndices(store: Store, indices: string[]): Promise<void> {
  await store.indices.refresh({ index: indices.join(',') });
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** ISM's explanation of each index matching `pattern`, by index name (only where the plugin exists). */
export async function ismExplain(store: Store, pattern: string): Promise<Record<string, Json>> {
  const res = await store.transport.request({ method: 'GET', path: `/_plugins/_ism/explain/${pattern}` });
  return res.body as Record<string, Json>;
}

/**
 * Moves the ISM-managed indices matching `pattern` to the current version of policy `policyId` (ISM keeps
 * running the version an index started with); returns how many it switched.
 */
export async function ismChangePolicy(store: Store, pattern: string, policyId: string): Promise<number> {
  const res = await store.transport.request({
    method: 'POST',
    path: `/_plugins/_ism/change_policy/${pattern}`,
    body: { policy_id: policyId },
  });
  return (res.body as { updated_indices?: number }).updated_indices ?? 0;
}
