/**
 * The events repository: every query of the day indices (and the cast of its answer) that the read path, the
 * write path, the page and the integrity layer need. Callers pass domain values and get domain values back.
 */
// The stored event is declared once, with its schema (events/schema.ts imports nothing of the project).
import type { StoredEvent } from '../events/schema.ts';
import { StorageFull, StoreUnavailable } from '../errors.ts';
import {
  getMany,
  guarded,
  isDiskBlock,
  searchWhole,
  type CallOptions,
  type DocRef,
  type Store,
} from './client.ts';
import { readTargets } from './indices.ts';
import type { LedgerEntry } from './ledger.ts';
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

// --- Read path: list, search, stream, page aggregations ----------------------------------------------------

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

/**
 * One write of a bulk: `create` fails (409) when the id exists, `index` creates or replaces, `delete` removes.
 * A string `doc` is a line of JSON already, sent as it is.
 */
export type DocWrite =
  | { op: 'create' | 'index'; index: string; id: string; doc: object | string }
  | { op: 'delete'; index: string; id: string; ifVersion?: DocVersion };

/** Which write of a document an answer was for: a delete that names it fails (409) once another write followed. */
export interface DocVersion {
  seqNo: number;
  primaryTerm: number;
}

/** The write that claims an event's ledger entry: fails (409) when the id is taken. */
export const claimEntry = (entry: LedgerEntry): DocWrite => ({
  op: 'create',
  index: INTERNAL.ledger,
  id: eventDocId(entry.orgId, entry.eventId),
  doc: entry,
});

/** The write that replaces a ledger entry this request holds (a renewed acceptedAt; any mark dropped). */
export const replaceEntry = (entry: LedgerEntry): DocWrite => ({
  op: 'index',
  index: INTERNAL.ledger,
  id: eventDocId(entry.orgId, entry.eventId),
  doc: entry,
});

/**
 * The write that frees an event's id in the ledger; with `ifVersion`, only while the entry is still the one
 * that write stored (a concurrent attempt that renewed it since keeps it: 409).
 */
export const releaseEntry = (orgId: string, eventId: string, ifVersion?: DocVersion): DocWrite => ({
  op: 'delete',
  index: INTERNAL.ledger,
  id: eventDocId(orgId, eventId),
  ...(ifVersion ? { ifVersion } : {}),
});

/** The write that stores an event once (409 when it is there); `json`: the event already serialized. */
export const createEvent = (index: string, doc: StoredEvent, json?: string): DocWrite => ({
  op: 'create',
  index,
  id: eventDocId(doc.orgId, doc.id),
  doc: json ?? doc,
});

/** What OpenSearch answered for one write: its HTTP-like status, the version it stored, and when it failed, why. */
export interface WriteResult {
  index: string;
  id: string;
  status: number;
  version?: DocVersion;
  error?: { type: string; reason?: string };
}

/** Item statuses that mean "try again later", not "this write is wrong". */
const RETRYABLE = new Set([429, 500, 502, 503, 504]);

/** Whether a write failed for now only (OpenSearch busy or out of disk): it was not stored, and may be retried. */
export const failedForNow = (item: WriteResult) => RETRYABLE.has(item.status);

/** The error for writes of which some failed for now (StorageFull when disk space is why), or undefined. */
export function retryLater(items: WriteResult[]): StoreUnavailable | undefined {
  const full = items.find((it) => isDiskBlock(it.status, it.error));
  if (full) return new StorageFull(`writing ${full.id}: ${full.error?.reason ?? full.status}`);
  const retry = items.find(failedForNow);
  return retry && new StoreUnavailable(`writing ${retry.id}: status ${retry.status}`);
}

/**
 * Per-call options of the write path: no retry by the client (a retried bulk whose first try did land would
 * report this very request's events as duplicates: the producer's retry is the one retry), and a timeout that
 * ends the call at `deadline` (epoch ms; Infinity = none). Past it: StoreUnavailable.
 */
export function writeCall(deadline: number): CallOptions {
  if (deadline === Infinity) return { maxRetries: 0 };
  const left = deadline - Date.now();
  if (left <= 0) throw new StoreUnavailable('the request ran out of time before its next write');
  return { maxRetries: 0, requestTimeout: left };
}

/**
 * The `writes` as one `_bulk`, finished by `deadline`; a result per write, in order, each for the caller to
 * check. A write that failed for now throws (retryLater: StorageFull or StoreUnavailable).
 */
export async function writeDocs(store: Store, writes: DocWrite[], deadline: number): Promise<WriteResult[]> {
  const items = await writeEach(store, writes, deadline);
  const failure = retryLater(items);
  if (failure) throw failure;
  return items;
}

/** writeDocs that throws only when the request itself fails: every item's result, failed-for-now ones too. */
export async function writeEach(store: Store, writes: DocWrite[], deadline: number): Promise<WriteResult[]> {
  if (writes.length === 0) return [];
  const body = writes.flatMap((w) =>
    w.op === 'delete'
      ? [{ delete: { _index: w.index, _id: w.id, ...guard(w.ifVersion) } }]
      : [{ [w.op]: { _index: w.index, _id: w.id } }, w.doc],
  );
  // The client's types list objects only; its serializer (ndserialize) sends a string line as it is.
  const res = await guarded(store.bulk({ body: body as object[] }, writeCall(deadline)));
  type Item = {
    _index: string;
    _id: string;
    status: number;
    error?: WriteResult['error'];
    _seq_no?: number;
    _primary_term?: number;
  };
  return (res.body as unknown as { items: Record<string, Item>[] }).items.map((it) => {
    const { _index, _id, status, error, _seq_no, _primary_term } = Object.values(it)[0]!;
    const stored = error === undefined && _seq_no !== undefined && _primary_term !== undefined;
    return {
      index: _index,
      id: _id,
      status,
      ...(stored ? { version: { seqNo: _seq_no, primaryTerm: _primary_term } } : {}),
      ...(error ? { error } : {}),
    };
  });
}

const guard = (v: DocVersion | undefined) =>
  v ? { if_seq_no: v.seqNo, if_primary_term: v.primaryTerm } : {};

// --- Integrity: what the sealer and verify read of the day indices -------------------------------------------

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
