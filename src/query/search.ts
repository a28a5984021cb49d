/** Running reads against OpenSearch: one page (the API), or every matching entry (export, stream). */
import { toEntry, type AuditEntry, type StoredEvent } from '../events/schema.ts';
import type { Store } from '../store/client.ts';
import { membershipDocs } from '../store/directory.ts';
import { getEvents } from '../store/event-lookups.ts';
import { searchEvents, type EventHit } from '../store/events.ts';
import { getEntry, type LedgerDoc } from '../store/ledger-store.ts';
import type { ReadScope } from '../directory/access.ts';
import { buildFind, buildSearch, readWindows } from './build.ts';
import type { SortKey } from './cursor.ts';
import type { ListFilters } from './query-params.ts';

export interface Page {
  entries: AuditEntry[];
  /** The sort key of the last entry when more entries follow, else undefined. */
  next?: SortKey;
}

/**
 * Past this many departed members, their events are dropped from the hits here rather than excluded by the
 * query: the ids would go to every day index searched, so a read that visits many days (a rare word over a
 * year) would cost (days × ids) — seconds for 100,000 ids.
 */
export const DROP_DEPARTED_ABOVE = 5_000;
/** Most hits asked for per request while dropping departed members' events here (a batch doubles from the page size). */
const DROP_BATCH = 1000;
/** Hits looked at here before the rest of the read goes back to the terms lookups (most events being departed ones). */
const DROP_MAX_SCANNED = 20_000;

type Departed = { ids?: string[]; drop?: Set<string> };

/**
 * The departed lists of the orgs read last (newest last), each with the version of the lookup documents it
 * was read at: a read checks the version (one small realtime multi-get) and reads the list again only when it
 * changed — on this or any other instance. At most CACHED_IDS ids of CACHED_ORGS orgs are kept.
 */
type CacheEntry = { version: string; departed: Departed; size: number };
/** Per cluster the process reads (tests and benches talk to several), then per org. */
const caches = new WeakMap<Store, { entries: Map<string, CacheEntry>; ids: number }>();
const CACHED_IDS = 120_000;
const CACHED_ORGS = 1000;

/**
 * How this read leaves out departed members' events: nothing to leave out; their ids, for the query; or, when
 * there are very many, the set of them to drop here. The org's list is read at most once per read, not per
 * request, and not at all while it has not changed.
 */
async function departedOf(store: Store, filters: ListFilters, scope: ReadScope): Promise<Departed> {
  if (filters.includeDeparted) return {};
  const { orgId } = scope;
  let cache = caches.get(store);
  if (!cache) caches.set(store, (cache = { entries: new Map(), ids: 0 }));
  const { entries } = cache;
  // The version is read first: a list read after it is at least as new, so a stale list is never kept.
  const version = await membershipDocs.version(store, orgId);
  const take = (): CacheEntry | undefined => {
    const entry = entries.get(orgId);
    if (entry) {
      entries.delete(orgId);
      cache.ids -= entry.size;
    }
    return entry;
  };
  const put = (entry: CacheEntry) => {
    take(); // a read that raced this one may have put it meanwhile
    entries.set(orgId, entry);
    cache.ids += entry.size;
  };
  const hit = take();
  if (hit?.version === version) {
    put(hit);
    return hit.departed;
  }
  const ids = await membershipDocs.departed(store, orgId);
  const departed = ids.length > DROP_DEPARTED_ABOVE ? { drop: new Set(ids) } : { ids };
  if (ids.length <= CACHED_IDS) {
    put({ version, departed, size: ids.length });
    for (const [oldest, entry] of entries) {
      if (cache.ids <= CACHED_IDS && entries.size <= CACHED_ORGS) break;
      entries.delete(oldest);
      cache.ids -= entry.size;
    }
  }
  return departed;
}

/**
 * Up to `size` hits after `after`, newest first, walking the day windows. Departed members' events are
 * excluded by the query or, for an org with very many of them, dropped here: then the windows are paged in
 * batches, each continuing after the last hit looked at, so nothing is skipped or repeated.
 */
async function searchHits(
  store: Store,
  filters: ListFilters,
  scope: ReadScope,
  size: number,
  after?: SortKey,
): Promise<EventHit[]> {
  const { ids, drop } = await departedOf(store, filters, scope);
  const hits: EventHit[] = [];
  let from = after;
  let scanned = 0;
  // While dropping: ask for what the page lacks, then twice as much after each batch that did not fill it.
  let batch = size;
  for (const window of readWindows(filters, after)) {
    for (;;) {
      const dropping = drop !== undefined && scanned < DROP_MAX_SCANNED;
      const want = dropping ? Math.max(size - hits.length, batch) : size - hits.length;
      const search = dropping
        ? buildSearch({ ...filters, includeDeparted: true }, scope, want, from, window)
        : buildSearch(filters, scope, want, from, window, ids); // past DROP_MAX_SCANNED: the lookups
      const found = await searchEvents(store, search);
      scanned += found.length;
      for (const h of found) {
        if (dropping && h.event.actorId != null && drop.has(h.event.actorId)) continue;
        hits.push(h);
        if (hits.length === size) return hits;
      }
      if (found.length < want) break; // this window has nothing more
      from = found[found.length - 1]!.sort;
      batch = Math.min(batch * 2, DROP_BATCH);
    }
  }
  return hits;
}

/**
 * One page of `limit` entries after `after`. It asks for one more than it returns, so it knows whether another
 * page exists: a result whose size is a multiple of `limit` never ends with an empty page.
 */
export async function searchPage(
  store: Store,
  filters: ListFilters,
  scope: ReadScope,
  limit: number,
  after?: SortKey,
): Promise<Page> {
  const hits = await searchHits(store, filters, scope, limit + 1, after);
  const page = hits.slice(0, limit);
  return {
    entries: page.map((h) => toEntry(h.event)),
    ...(hits.length > limit ? { next: page[page.length - 1]!.sort } : {}),
  };
}

/** The sort key of an entry, to resume `iterateEntries` after it (e.g. a resumable export). */
export function sortKeyOf(entry: AuditEntry): SortKey {
  return [Date.parse(entry.createdAt), entry.id];
}

/**
 * Every entry matching `filters` in `scope`, newest first, walked with `search_after` (no 10k window, constant
 * cost per page). Start after `after` to resume. Entries ingested meanwhile appear only if they sort after the
 * current position.
 */
export async function* iterateEntries(
  store: Store,
  filters: ListFilters,
  scope: ReadScope,
  opts: { pageSize?: number; after?: SortKey } = {},
): AsyncGenerator<AuditEntry> {
  const pageSize = opts.pageSize ?? 1000;
  let after = opts.after;
  for (;;) {
    const hits = await searchHits(store, filters, scope, pageSize, after);
    for (const h of hits) yield toEntry(h.event);
    if (hits.length < pageSize) return;
    after = hits[hits.length - 1]!.sort;
  }
}

/**
 * One entry by id within the caller's scope, or undefined (absent, or another org's / workspace's: the caller
 * cannot tell the two apart). Departed members' entries are returned: an id is an explicit request.
 */
export async function findEntry(store: Store, id: string, scope: ReadScope): Promise<AuditEntry | undefined> {
  const own = await eventInScope(store, id, scope);
  if (own) return toEntry(own.event);
  // An event the ledger does not place (written around the service, or a copy elsewhere) is found as before.
  const [hit] = await searchEvents(store, buildFind(id, scope));
  return hit ? toEntry(hit.event) : undefined;
}

/**
 * One event of the scope with its ledger entry, by realtime GETs (the entry names the event's day index), so
 * an event is found as soon as its write was acknowledged, not only after the next refresh as a search would;
 * undefined when the ledger has no entry, its event is not stored, or the event is outside the scope.
 */
export async function eventInScope(
  store: Store,
  id: string,
  scope: ReadScope,
): Promise<{ entry: LedgerDoc; event: StoredEvent } | undefined> {
  const entry = await getEntry(store, scope.orgId, id);
  if (!entry) return undefined;
  const [event] = await getEvents(store, [{ index: entry.index, orgId: scope.orgId, eventId: id }]);
  if (!event || event.orgId !== scope.orgId) return undefined;
  if (scope.workspaceId !== undefined && event.workspaceId !== scope.workspaceId) return undefined;
  return { entry, event };
}
