/**
 * The OpenSearch request for a read: scope, filters, departed-member exclusion, free text, sort. Shared by the
 * list API, `iterateEntries` (export, stream) and the admin page's histogram, so every reader applies the
 * same tenant filter and the same rules. Pure: store/events.ts runs what this builds.
 */
import { DAY_MS } from '../days.ts';
import { MAX_FUTURE_SKEW_MS, PUBLIC_FIELDS } from '../events/schema.ts';
import type { ReadScope } from '../directory/access.ts';
import { departedLookups } from '../directory/membership.ts';
import type { EventSearch } from '../store/events.ts';
import { AUDIT_INDEX_PATTERN, indicesForRange } from '../store/names.ts';
import type { ListFilters } from './query-params.ts';

/** Newest first; `id` breaks ties between events of the same millisecond, so the order is total. */
export const SORT = [{ createdAt: { order: 'desc' } }, { id: { order: 'desc' } }] as const;

/**
 * Free-text fields, led by the description. `bool_prefix` treats the last word as a prefix (search as you type)
 * without any query syntax, so no user string can cause a parse error or reach another field.
 */
export const SEARCH_FIELDS = ['description^4', 'resourceName^2', 'actorName^2', 'actorEmail', 'action'];

type Json = Record<string, unknown>;

/**
 * The filter clauses (no sort, no paging): also what a histogram aggregates over. `departed`: the org's departed
 * members when the caller has read them already (else the query looks them up itself).
 */
export function buildQuery(filters: ListFilters, scope: ReadScope, departed?: string[]): Json {
  const filter: Json[] = [{ term: { orgId: scope.orgId } }];
  if (scope.workspaceId !== undefined) filter.push({ term: { workspaceId: scope.workspaceId } });
  if (filters.workspaceId !== undefined) filter.push({ term: { workspaceId: filters.workspaceId } });
  if (filters.actions) filter.push({ terms: { action: filters.actions } });
  if (filters.resourceTypes) filter.push({ terms: { resourceType: filters.resourceTypes } });
  if (filters.resourceId !== undefined) filter.push({ term: { resourceId: filters.resourceId } });
  if (filters.actorId !== undefined) filter.push({ term: { actorId: filters.actorId } });
  if (filters.start || filters.end) {
    filter.push({
      range: {
        createdAt: {
          ...(filters.start ? { gte: filters.start.getTime() } : {}),
          ...(filters.end ? { lte: filters.end.getTime() } : {}),
          format: 'epoch_millis',
        },
      },
    });
  }
  const mustNot: Json[] = [];
  // Events without an actor never match either form, so they stay.
  if (!filters.includeDeparted && departed) {
    if (departed.length > 0) mustNot.push({ terms: { actorId: departed } });
  } else if (!filters.includeDeparted) {
    // Terms lookups: OpenSearch reads the org's departed-user list from its membership documents itself.
    for (const lookup of departedLookups(scope.orgId)) mustNot.push({ terms: { actorId: lookup } });
  }
  // Every word must match some field (the last one as a prefix), so "alice deploy" finds Alice's deployments.
  const must = (filters.search?.split(/\s+/).slice(0, 16) ?? []).map((word) => ({
    multi_match: { query: word, type: 'bool_prefix', fields: SEARCH_FIELDS, operator: 'and' },
  }));
  return {
    bool: { filter, ...(must.length ? { must } : {}), ...(mustNot.length ? { must_not: mustNot } : {}) },
  };
}

/**
 * The day indices to search: only those the date range touches (an open end stops at "now" plus the allowed
 * clock skew). Never empty: an empty index list would make OpenSearch search every index of the cluster.
 */
export function indicesFor(filters: ListFilters): string {
  const { start } = filters;
  let end = filters.end ?? (start ? new Date(Date.now() + MAX_FUTURE_SKEW_MS) : undefined);
  if (start && end && end.getTime() < start.getTime()) end = start;
  return indicesForRange(start, end);
}

const dayStart = (ms: number) => Math.floor(ms / DAY_MS) * DAY_MS;

/**
 * Widths in days of the successive windows a newest-first read walks, newest first; after the last, one request
 * covers everything older. A page that fills within the newest day never touches the older indices, so its
 * cost does not grow with retention. Past months being month indices, a window between would save too few
 * shards to pay for its round trip (docs/benchmarks.md, "The day windows in isolation").
 */
export const WINDOW_DAYS = [1];

/** A span of whole UTC days of createdAt, `[from, to)` in epoch ms; `from` undefined = back to the oldest. */
export interface Window {
  from?: number;
  to: number;
}

/**
 * The windows, newest first, that a read of `filters` continuing below `after` walks: they are disjoint, cover
 * every day the read can match, and each later one holds only older events, so their pages concatenate in
 * sort order. Events live in the day index of their createdAt, so a window is also a set of day indices.
 */
export function readWindows(filters: ListFilters, after?: SortKeyLike): Window[] {
  let top = filters.end?.getTime() ?? Date.now() + MAX_FUTURE_SKEW_MS;
  if (after && after[0] < top) top = after[0];
  const floor = filters.start ? dayStart(filters.start.getTime()) : undefined;
  const windows: Window[] = [];
  let to = dayStart(top) + DAY_MS;
  for (const days of [...WINDOW_DAYS, undefined]) {
    if (floor !== undefined && to <= floor) break;
    let from = days === undefined ? floor : to - days * DAY_MS;
    if (from !== undefined && floor !== undefined && from < floor) from = floor;
    windows.push(from === undefined ? { to } : { from, to });
    if (from === undefined) break;
    to = from;
  }
  return windows;
}

type SortKeyLike = readonly [number, string];

/**
 * A complete search request for one page: newest first from `after`, `size` hits, within `window` when given
 * (else every day the filters allow), `departed` as for buildQuery. Missing day indices are skipped, and a range with no index at all is an
 * empty page rather than an error.
 */
export function buildSearch(
  filters: ListFilters,
  scope: ReadScope,
  size: number,
  after?: SortKeyLike,
  window?: Window,
  departed?: string[],
) {
  let index = indicesFor(filters);
  let query = buildQuery(filters, scope, departed);
  if (window) {
    index = indicesForRange(
      window.from === undefined ? undefined : new Date(window.from),
      new Date(window.to - 1),
    );
    const range = {
      range: {
        createdAt: { ...(window.from !== undefined ? { gte: window.from } : {}), lt: window.to },
      },
    };
    const bool = (query as { bool: Json }).bool;
    query = { bool: { ...bool, filter: [...(bool.filter as Json[]), range] } };
  }
  return {
    index,
    ignore_unavailable: true,
    allow_no_indices: true,
    // Over the whole pattern, let every shard whose createdAt range misses the window drop out before the query.
    ...(index === AUDIT_INDEX_PATTERN && window ? { pre_filter_shard_size: 1 } : {}),
    body: {
      query,
      sort: SORT as unknown as Json[],
      size,
      track_total_hits: false,
      _source: [...PUBLIC_FIELDS],
      ...(after ? { search_after: after } : {}),
    },
  };
}

/**
 * The search for one entry by id in `scope` over every day index. Departed members' entries count: an id is an
 * explicit request.
 */
export function buildFind(id: string, scope: ReadScope): EventSearch {
  return {
    index: AUDIT_INDEX_PATTERN,
    ignore_unavailable: true,
    allow_no_indices: true,
    body: {
      query: { bool: { filter: [buildQuery({ includeDeparted: true }, scope), { term: { id } }] } },
      size: 1,
      _source: [...PUBLIC_FIELDS],
    },
  };
}
