/** Running reads against OpenSearch: one page (the API), or every matching entry (export, stream). */
import { toEntry, type AuditEntry } from '../events/schema.ts';
import type { Store } from '../store/client.ts';
import { searchEvents, type EventHit } from '../store/events.ts';
import type { ReadScope } from '../directory/access.ts';
import { buildFind, buildSearch, readWindows } from './build.ts';
import type { SortKey } from './cursor.ts';
import type { ListFilters } from './params.ts';

export interface Page {
  entries: AuditEntry[];
  /** The sort key of the last entry when more entries follow, else undefined. */
  next?: SortKey;
}

async function searchHits(
  store: Store,
  filters: ListFilters,
  scope: ReadScope,
  size: number,
  after?: SortKey,
): Promise<EventHit[]> {
  const hits: EventHit[] = [];
  for (const window of readWindows(filters, after)) {
    hits.push(...(await searchEvents(store, buildSearch(filters, scope, size - hits.length, after, window))));
    if (hits.length >= size) break;
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
  const [hit] = await searchEvents(store, buildFind(id, scope));
  return hit ? toEntry(hit.event) : undefined;
}
