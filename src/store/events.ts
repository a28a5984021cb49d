/**
 * The events repository's read path: every query of the day indices (and the cast of its answer) that list,
 * search, stream and the page need, and the write that stores an event. Callers pass domain values and get
 * domain values back.
 */
// The stored event is declared once, with its schema (events/schema.ts imports nothing of the project).
import type { StoredEvent } from '../events/schema.ts';
import type { DocWrite } from './bulk-writes.ts';
import { guarded, searchWhole, type Store } from './client.ts';
import { AUDIT_INDEX_PATTERN, eventDocId } from './names.ts';
import { readTargets } from './read-layout.ts';

/** A search of the day indices as query/build.ts assembles it (indices, query, sort, paging, fields). */
export interface EventSearch {
  /** The audit pattern, or day names whose days the query's createdAt range keeps the search within. */
  index: string;
  ignore_unavailable?: boolean;
  allow_no_indices?: boolean;
  pre_filter_shard_size?: number;
  body: object;
}

/** A matching event and its sort key, `[createdAt epoch ms, id]`, to continue after it (search_after). */
export interface EventHit {
  event: StoredEvent;
  sort: [number, string];
}

/** An empty list of day names names no day: the read is empty, where OpenSearch would search every index. */
const namesNoIndex = (index: string) => index.split(',').every((name) => name.trim() === '');

/** The events `search` matches, in its order (`sort` is set when the search sorts). */
export async function searchEvents(store: Store, search: EventSearch): Promise<EventHit[]> {
  if (namesNoIndex(search.index)) return [];
  const res = await searchWhole(store, { ...search, index: await readTargets(store, search.index) } as never);
  const hits = (res.body.hits.hits as unknown as { _source: StoredEvent; sort: [number, string] }[]) ?? [];
  return hits.map((h) => ({ event: h._source, sort: h.sort }));
}

/**
 * Aggregations only: missing day indices count as empty. `index` as for EventSearch: the pattern, or day names
 * the query's createdAt range keeps it within. Where no index exists OpenSearch answers without
 * `aggregations`, so the answer is undefined then, as for an empty list of names.
 */
async function aggregate<A>(
  store: Store,
  index: string,
  body: object,
): Promise<{ total: number; aggregations: A } | undefined> {
  if (namesNoIndex(index)) return undefined;
  const res = await guarded(
    store.search({
      index: await readTargets(store, index),
      ignore_unavailable: true,
      allow_no_indices: true,
      body: { size: 0, ...body },
    } as never),
  );
  const answer = res.body as unknown as { hits: { total?: { value: number } }; aggregations?: A };
  if (!answer.aggregations) return undefined;
  return { total: answer.hits.total?.value ?? 0, aggregations: answer.aggregations };
}

/** The oldest createdAt (epoch ms) among the events of `index` matching `query`, or null when none match. */
export async function oldestCreatedAt(store: Store, index: string, query: object): Promise<number | null> {
  const res = await aggregate<{ oldest: { value: number | null } }>(store, index, {
    query,
    track_total_hits: false,
    aggs: { oldest: { min: { field: 'createdAt' } } },
  });
  return res?.aggregations.oldest.value ?? null;
}

/**
 * Matching events per interval of createdAt (`interval`, a fixed interval such as `1h`, of `intervalMs`), every
 * interval from `bounds.min` to `bounds.max` (epoch ms) included even when empty, and the exact number of
 * matching events. The empty intervals are filled in here, not by the search: without the bounds (which move
 * with "now") the request a sealed day's shard answers is the same every time, so OpenSearch's shard request
 * cache answers it again until the day changes.
 */
export async function countOverTime(
  store: Store,
  index: string,
  query: object,
  interval: { name: string; ms: number },
  bounds: { min: number; max: number },
): Promise<{ total: number; buckets: { start: number; count: number }[] }> {
  const res = await aggregate<{ overTime: { buckets: { key: number; doc_count: number }[] } }>(store, index, {
    query,
    track_total_hits: true,
    aggs: { overTime: { date_histogram: { field: 'createdAt', fixed_interval: interval.name } } },
  });
  const counts = new Map((res?.aggregations.overTime.buckets ?? []).map((b) => [b.key, b.doc_count]));
  // Fixed intervals start at multiples of the interval since the epoch, as OpenSearch's buckets do.
  const last = Math.max(bounds.max, ...counts.keys());
  for (let at = Math.floor(bounds.min / interval.ms) * interval.ms; at <= last; at += interval.ms) {
    if (!counts.has(at)) counts.set(at, 0);
  }
  return {
    total: res?.total ?? 0,
    buckets: [...counts].sort(([a], [b]) => a - b).map(([start, count]) => ({ start, count })),
  };
}

/**
 * The most frequent values of each keyword field of `sizes` (at most that many values) among the events of
 * `index` matching `query`, with their event counts, most frequent first.
 */
export async function topValues<F extends string>(
  store: Store,
  index: string,
  query: object,
  sizes: Record<F, number>,
): Promise<Record<F, { value: string; count: number }[]>> {
  const fields = Object.keys(sizes) as F[];
  const res = await aggregate<Record<F, { buckets: { key: string; doc_count: number }[] }>>(store, index, {
    query,
    track_total_hits: false,
    aggs: Object.fromEntries(fields.map((f) => [f, { terms: { field: f, size: sizes[f] } }])),
  });
  return Object.fromEntries(
    fields.map((f) => [
      f,
      (res?.aggregations[f].buckets ?? []).map((b) => ({ value: b.key, count: b.doc_count })),
    ]),
  ) as Record<F, { value: string; count: number }[]>;
}

/** How many events an org has, over every day index. */
export async function countOrgEvents(store: Store, orgId: string): Promise<number> {
  return countMatching(store, AUDIT_INDEX_PATTERN, { term: { orgId } });
}

/** How many events of `index` (a pattern or list of day indices; missing ones count none) match `query`. */
export async function countMatching(store: Store, index: string, query: object): Promise<number> {
  if (namesNoIndex(index)) return 0;
  const res = await guarded(
    store.count({ index, ignore_unavailable: true, allow_no_indices: true, body: { query } }),
  );
  return res.body.count;
}

// --- Write path: ingest ---------------------------------------------------------------------------------------

/** The write that stores an event once (409 when it is there); `json`: the event already serialized. */
export const createEvent = (index: string, doc: StoredEvent, json?: string): DocWrite => ({
  op: 'create',
  index,
  id: eventDocId(doc.orgId, doc.id),
  doc: json ?? doc,
});
