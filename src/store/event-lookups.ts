/**
 * Events by id, and counts of them: what ingest's checks, the sealer and verify read of the day indices.
 */
import type { StoredEvent } from '../events/schema.ts';
import { getMany, guarded, type CallOptions, type DocRef, type Store } from './client.ts';
import { spanQuery } from './ledger-walk.ts';
import {
  AUDIT_INDEX_PATTERN,
  dayIndexOfHit,
  eventDocId,
  INTERNAL,
  legacyEventDocId,
  MAX_QUERY_CLAUSES,
} from './names.ts';
import { orgAccepted, scanHits, type AcceptedWindow } from './scan.ts';

/** An event to read: its day index and id, and which of its fields (default: all). */
export interface EventRef {
  index: string;
  orgId: string;
  eventId: string;
  fields?: string[];
}

/**
 * Events by realtime multi-get, in the order asked (undefined: not there), each whole or with only the fields
 * its ref names; `call` bounds the request (a write's deadline). A document at the id whose orgId is another
 * org's is not this event; an event of an org with `:` stored before orgRecordId is read at its old id.
 */
export async function getEvents<T extends Partial<StoredEvent> = StoredEvent>(
  store: Store,
  refs: EventRef[],
  call?: CallOptions,
): Promise<(T | undefined)[]> {
  const docs: DocRef[] = [];
  const legacyAt: (number | undefined)[] = [];
  const source = (e: EventRef) => (e.fields ? { _source: [...new Set([...e.fields, 'orgId'])] } : {});
  for (const e of refs) docs.push({ _index: e.index, _id: eventDocId(e.orgId, e.eventId), ...source(e) });
  for (const [k, e] of refs.entries()) {
    const legacy = legacyEventDocId(e.orgId, e.eventId);
    if (legacy === eventDocId(e.orgId, e.eventId)) continue;
    legacyAt[k] = docs.length;
    docs.push({ _index: e.index, _id: legacy, ...source(e) });
  }
  const found = await getMany<T>(store, docs, call ? { call } : {});
  return refs.map((e, k) => {
    const mine = (d: T | undefined) => (d?.orgId === e.orgId ? d : undefined);
    const doc = mine(found[k]) ?? (legacyAt[k] === undefined ? undefined : mine(found[legacyAt[k]]));
    if (!doc || !e.fields || e.fields.includes('orgId')) return doc;
    const { orgId: _, ...rest } = doc;
    return rest as T;
  });
}

/** The day index holding one of the org's events, as search finds it; undefined when none does. */
export async function findEventIndex(store: Store, orgId: string, id: string): Promise<string | undefined> {
  const res = await guarded(
    store.search({
      index: AUDIT_INDEX_PATTERN,
      body: {
        size: 1,
        query: { bool: { filter: [{ term: { orgId } }, { term: { id } }] } },
        _source: ['createdAt'],
      },
    }),
  );
  const hit = (res.body as { hits: { hits: { _index: string; _source?: { createdAt?: string } }[] } }).hits
    .hits[0];
  return hit && dayIndexOfHit(hit._index, hit._source?.createdAt);
}

/** Whether a day index, or the alias a consolidated day keeps its name with, exists. */
export async function dayExists(store: Store, index: string): Promise<boolean> {
  return (await guarded(store.indices.exists({ index }))).body;
}

/** How many of the org's events were accepted in the window. */
export async function countEvents(store: Store, orgId: string, window: AcceptedWindow): Promise<number> {
  const res = await guarded(
    store.count({ index: AUDIT_INDEX_PATTERN, body: { query: orgAccepted(orgId, window) } }),
  );
  return (res.body as { count: number }).count;
}

/** How many of the org's events in these day indices have an acceptedAt in [first, last] (missing: none). */
export async function countEventsInSpan(
  store: Store,
  indices: string[],
  orgId: string,
  acceptedAt: { first: string; last: string },
): Promise<number> {
  const res = await guarded(
    store.count(
      { index: indices.join(','), body: { query: spanQuery(orgId, acceptedAt) }, ignore_unavailable: true },
      { ignore: [404] },
    ),
  );
  return (res.body as { count?: number }).count ?? 0;
}

/**
 * How many of these events are in `index`, each stored with the acceptedAt given; undefined when the index is
 * missing, or when they have too many distinct acceptedAt values for one query (a request's events share one).
 * An event of an org with `:` may be at its old id (legacyEventDocId); the orgId field tells whose it is.
 */
export async function countStoredPairs(
  store: Store,
  index: string,
  events: { orgId: string; eventId: string; acceptedAt: string }[],
): Promise<number | undefined> {
  const byTime = new Map<string, { ids: Set<string>; orgIds: Set<string> }>();
  for (const e of events) {
    let group = byTime.get(e.acceptedAt);
    if (!group) byTime.set(e.acceptedAt, (group = { ids: new Set(), orgIds: new Set() }));
    group.ids.add(eventDocId(e.orgId, e.eventId)).add(legacyEventDocId(e.orgId, e.eventId));
    group.orgIds.add(e.orgId);
  }
  if (byTime.size > MAX_QUERY_CLAUSES) return undefined;
  const should = [...byTime].map(([acceptedAt, { ids, orgIds }]) => ({
    bool: {
      filter: [{ term: { acceptedAt } }, { terms: { orgId: [...orgIds] } }, { ids: { values: [...ids] } }],
    },
  }));
  const query = { bool: { should, minimum_should_match: 1 } };
  const res = await guarded(store.count({ index, body: { query } }, { ignore: [404] }));
  return (res.body as { count?: number }).count;
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
    yield { index: dayIndexOfHit(hit._index, hit._source.createdAt), doc: hit._source };
  }
}

/** Makes everything written so far to the seals, the ledger and the day indices searchable. */
export async function refreshIntegrity(store: Store): Promise<void> {
  await guarded(
    store.indices.refresh({
      index: [INTERNAL.seals, INTERNAL.ledger, AUDIT_INDEX_PATTERN].join(','),
      ignore_unavailable: true,
    }),
  );
}
