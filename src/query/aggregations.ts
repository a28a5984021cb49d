/**
 * Aggregations for the admin page, over exactly the query the list runs (`buildQuery`: same tenant scope, same
 * filters, same departed-member rule): events over time (histogram) and the actions / resource types an org has
 * (facets, for the filter menus).
 */
import { DAY_MS } from '../days.ts';
import type { ReadScope } from '../directory/access.ts';
import { isDestructive } from '../events/catalogue.ts';
import { MAX_FUTURE_SKEW_MS } from '../events/schema.ts';
import { buildQuery, indicesFor } from './build.ts';
import type { ListFilters } from './query-params.ts';
import type { Store } from '../store/client.ts';
import { countOverTime, oldestCreatedAt, topValues } from '../store/events.ts';
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
  ['1d', DAY_MS],
  ['2d', 2 * DAY_MS],
  ['7d', 7 * DAY_MS],
  ['30d', 30 * DAY_MS],
  ['90d', 90 * DAY_MS],
  ['365d', 365 * DAY_MS],
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
    const oldest = await oldestCreatedAt(store, index, query);
    if (oldest === null) return { ...chooseInterval(0), total: 0, buckets: [] };
    start = Math.min(oldest, end);
  }
  const { interval, intervalMs } = chooseInterval(Math.max(end - start, 1));
  // Events up to the allowed clock skew ahead still belong in the last bucket rather than past the axis.
  const max = Math.min(end, Date.now() + MAX_FUTURE_SKEW_MS);
  const { total, buckets } = await countOverTime(
    store,
    index,
    query,
    { name: interval, ms: intervalMs },
    { min: start, max },
  );
  return {
    interval,
    intervalMs,
    total,
    buckets: buckets.map((b) => ({ start: new Date(b.start).toISOString(), count: b.count })),
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
  const top = await topValues(store, AUDIT_INDEX_PATTERN, buildQuery({ includeDeparted }, scope), {
    action: 1000,
    resourceType: 500,
  });
  return {
    actions: top.action.map((a) => ({ ...a, destructive: isDestructive(a.value) })),
    resourceTypes: top.resourceType,
  };
}
