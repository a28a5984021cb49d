/**
 * The events repository: every query of the day indices (and the cast of its answer) that the read path, the
 * write path, the page and the integrity layer need. Callers pass domain values and get domain values back.
 */

// --- Read path: list, search, stream, page aggregations ----------------------------------------------------

// --- Write path: ingest ---------------------------------------------------------------------------------------

// --- Integrity: what the sealer and verify read of the day indices -------------------------------------------
// (Imported here, not at the top, so that this section merges apart from the others.)
import type { StoredEvent } from '../events/schema.ts';
import { getMany, type Store } from './client.ts';
import { spanQuery } from './ledger-walk.ts';
import { AUDIT_INDEX_PATTERN, eventDocId, INTERNAL } from './names.ts';
import { orgAccepted, scanHits, type AcceptedWindow } from './scan.ts';

/** Most (acceptedAt, ids) clauses one query holds (OpenSearch allows 1,024 clauses by default). */
const MAX_PAIR_CLAUSES = 500;

/** How many of the org's events in these day indices have an acceptedAt in [first, last] (missing: none). */
export async function countEventsInSpan(
  store: Store,
  indices: string[],
  orgId: string,
  acceptedAt: { first: string; last: string },
): Promise<number> {
  const res = await store.count(
    { index: indices.join(','), body: { query: spanQuery(orgId, acceptedAt) }, ignore_unavailable: true },
    { ignore: [404] },
  );
  return (res.body as { count?: number }).count ?? 0;
}

/**
 * How many of these events are in `index`, each stored with the acceptedAt given; undefined when the index is
 * missing, or when they have too many distinct acceptedAt values for one query (a request's events share one).
 */
export async function countStoredPairs(
  store: Store,
  index: string,
  events: { orgId: string; eventId: string; acceptedAt: string }[],
): Promise<number | undefined> {
  const byTime = new Map<string, string[]>();
  for (const e of events) {
    const ids = byTime.get(e.acceptedAt);
    if (ids) ids.push(eventDocId(e.orgId, e.eventId));
    else byTime.set(e.acceptedAt, [eventDocId(e.orgId, e.eventId)]);
  }
  if (byTime.size > MAX_PAIR_CLAUSES) return undefined;
  const should = [...byTime].map(([acceptedAt, values]) => ({
    bool: { filter: [{ term: { acceptedAt } }, { ids: { values } }] },
  }));
  const query = { bool: { should, minimum_should_match: 1 } };
  const res = await store.count({ index, body: { query } }, { ignore: [404] });
  return (res.body as { count?: number }).count;
}

/** An event to read: its day index and id, and whether only its acceptedAt is wanted. */
export interface EventRef {
  index: string;
  orgId: string;
  eventId: string;
  acceptedAtOnly?: boolean;
}

/** Events by realtime multi-get, in the order asked (undefined: not there); whole, or only their acceptedAt. */
export async function getEventsOf(
  store: Store,
  refs: EventRef[],
): Promise<(Partial<StoredEvent> | undefined)[]> {
  return getMany<Partial<StoredEvent>>(
    store,
    refs.map((e) => ({
      _index: e.index,
      _id: eventDocId(e.orgId, e.eventId),
      _source: e.acceptedAtOnly ? ['acceptedAt'] : true,
    })),
  );
}

/** Whole events by realtime multi-get, in the order asked (undefined: not there). */
export async function getEvents(store: Store, refs: EventRef[]): Promise<(StoredEvent | undefined)[]> {
  return getMany<StoredEvent>(
    store,
    refs.map((e) => ({ _index: e.index, _id: eventDocId(e.orgId, e.eventId) })),
  );
}

/** The day index holding one of the org's events, as search finds it; undefined when none does. */
export async function findEventIndex(store: Store, orgId: string, id: string): Promise<string | undefined> {
  const res = await store.search({
    index: AUDIT_INDEX_PATTERN,
    body: { size: 1, query: { bool: { filter: [{ term: { orgId } }, { term: { id } }] } }, _source: false },
  });
  return (res.body as { hits: { hits: { _index: string }[] } }).hits.hits[0]?._index;
}

/** How many of the org's events were accepted in the window. */
export async function countEvents(store: Store, orgId: string, window: AcceptedWindow): Promise<number> {
  const res = await store.count({ index: AUDIT_INDEX_PATTERN, body: { query: orgAccepted(orgId, window) } });
  return (res.body as { count: number }).count;
}

/** The org's events accepted in the window with their day index, by acceptedAt then id, a page at a time. */
export async function* scanOrgEvents(
  store: Store,
  orgId: string,
  window: AcceptedWindow,
): AsyncGenerator<{ index: string; doc: StoredEvent }> {
  for await (const hit of scanHits<StoredEvent>(store, AUDIT_INDEX_PATTERN, orgAccepted(orgId, window), [
    { acceptedAt: 'asc' },
    { id: 'asc' },
  ])) {
    yield { index: hit._index, doc: hit._source };
  }
}

/** Makes everything written so far to the seals, the ledger and the day indices searchable. */
export async function refreshIntegrity(store: Store): Promise<void> {
  await store.indices.refresh({
    index: [INTERNAL.seals, INTERNAL.ledger, AUDIT_INDEX_PATTERN].join(','),
    ignore_unavailable: true,
  });
}
