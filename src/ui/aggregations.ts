/**
 * Aggregations for the admin page, over exactly the query the list runs (`buildQuery`: same tenant scope, same
 * filters, same departed-member rule): events over time (histogram) and the actions / resource types an org has
 * (facets, for the filter menus).
 */
import type { ReadScope } from '../directory/access.ts';
import { isDestructive } from '../events/catalogue.ts';
import { MAX_FUTURE_SKEW_MS } from '../events/schema.ts';
import { buildQuery, indicesFor } from '../query/build.ts';
import type { ListFilters } from '../query/params.ts';
import type { Store } from '../store/client.ts';
import { AUDIT_INDEX_PATTERN } from '../store/names.ts';

/** Bucket widths, smallest first; the first that covers the range in at most MAX_BUCKETS wins. */
const INTERVALS: [string, number][] = [
  ['1m', 60e3],
  ['5m', 300e3],
  ['10m', 600e3],
  ['30m', 1800e3],
  ['1h', 3600e3],
  ['3h', 3 * 3600e3],
  ['6h', 6 * 3600e3],
  ['12h', 12 * 3600e3],
  ['1d', 86400e3],
  ['2d', 2 * 86400e3],
  ['7d', 7 * 86400e3],
  ['30d', 30 * 86400e3],
  ['90d', 90 * 86400e3],
  ['365d', 365 * 86400e3],
];
export const MAX_BUCKETS = 60;

export function chooseInterval(spanMs: number): { interval: string; intervalMs: number } {
  const found = INTERVALS.find(([, ms]) => spanMs / ms <= MAX_BUCKETS) ?? INTERVALS[INTERVALS.length - 1]!;
  return { interval: found[0], intervalMs: found[1] };
}

export interface Histogram {
  interval: string;
  intervalMs: number;
  /** Exact number of matching events. */
  total: number;
  buckets: { start: string; count: number }[];
}

const searchParams = (index: string) => ({ index, ignore_unavailable: true, allow_no_indices: true });

/**
 * Events per interval across the requested range (empty intervals included, so the axis is true to time). With
 * no start date the range starts at the oldest matching event; with no end it stops at now.
 */
export async function histogram(store: Store, filters: ListFilters, scope: ReadScope): Promise<Histogram> {
  const query = buildQuery(filters, scope);
  const index = indicesFor(filters);
  const end = filters.end?.getTime() ?? Date.now();
  let start = filters.start?.getTime();
  if (start === undefined) {
    const res = await store.search({
      ...searchParams(index),
      body: { query, size: 0, track_total_hits: false, aggs: { oldest: { min: { field: 'createdAt' } } } },
    } as never);
    const oldest = (res.body.aggregations as unknown as { oldest: { value: number | null } }).oldest.value;
    if (oldest === null) return { ...chooseInterval(0), total: 0, buckets: [] };
    start = Math.min(oldest, end);
  }
  const { interval, intervalMs } = chooseInterval(Math.max(end - start, 1));
  const res = await store.search({
    ...searchParams(index),
    body: {
      query,
      size: 0,
      track_total_hits: true,
      aggs: {
        overTime: {
          date_histogram: {
            field: 'createdAt',
            fixed_interval: interval,
            min_doc_count: 0,
            // Events up to the allowed clock skew ahead still belong in the last bucket rather than past the axis.
            extended_bounds: { min: start, max: Math.min(end, Date.now() + MAX_FUTURE_SKEW_MS) },
          },
        },
      },
    },
  } as never);
  const body = res.body as unknown as {
    hits: { total: { value: number } };
    aggregations: { overTime: { buckets: { key: number; doc_count: number }[] } };
  };
  return {
    interval,
    intervalMs,
    total: body.hits.total.value,
    buckets: body.aggregations.overTime.buckets.map((b) => ({
      start: new Date(b.key).toISOString(),
      count: b.doc_count,
    })),
  };
}

export interface Facets {
  actions: { value: string; count: number; destructive: boolean }[];
  resourceTypes: { value: string; count: number }[];
}

/**
 * Distinct actions and resource types in the caller's scope, across all time, with event counts. Departed
 * members' events count only with `includeDeparted`, as in the list, so a menu's count is what choosing it shows.
 */
export async function facets(store: Store, scope: ReadScope, includeDeparted = false): Promise<Facets> {
  const res = await store.search({
    ...searchParams(AUDIT_INDEX_PATTERN),
    body: {
      query: buildQuery({ includeDeparted }, scope),
      size: 0,
      track_total_hits: false,
      aggs: {
        actions: { terms: { field: 'action', size: 1000 } },
        resourceTypes: { terms: { field: 'resourceType', size: 500 } },
      },
    },
  } as never);
  type Terms = { buckets: { key: string; doc_count: number }[] };
  const aggs = res.body.aggregations as unknown as { actions: Terms; resourceTypes: Terms };
  return {
    actions: aggs.actions.buckets.map((b) => ({
      value: b.key,
      count: b.doc_count,
      destructive: isDestructive(b.key),
    })),
    resourceTypes: aggs.resourceTypes.buckets.map((b) => ({ value: b.key, count: b.doc_count })),
  };
}
