/**
 * The ledger repository (index INTERNAL.ledger, `_id` = eventDocId(orgId, eventId)): every query of the ledger
 * entries and every cast of its answers. What an entry means, and why the sealer's cursor is safe, is told in
 * src/integrity/ledger.ts.
 */
import type { DocVersion, DocWrite } from './bulk-writes.ts';
import { allBuckets, type CallOptions, getMany, getSource, guarded, type Store } from './client.ts';
import { eventDocId, INTERNAL } from './names.ts';
import { scanSources, type AcceptedWindow, orgAccepted } from './scan.ts';
import { StoreUnavailable } from '../errors.ts';

export interface LedgerEntry {
  orgId: string;
  eventId: string;
  /** idHashOf(eventId): lets the sealer's counts tell which entries a range holds, not only how many. */
  idHash: number;
  /** The day index the event is stored in. */
  index: string;
  createdAt: string;
  acceptedAt: string;
  /**
   * The event's Merkle leaf and storedHash (leaf.ts), as stored; absent when ingested with sealing off,
   * renewed by the write path, or written while the writer's own sealer led (then that sealer has them in
   * memory; any other hashes the event itself).
   */
  leaf?: string;
  storedHash?: string;
}

/** The rare marks the sealer leaves on an entry (src/integrity/ledger.ts). */
export interface LedgerMark {
  waiting?: boolean;
  sealed?: boolean;
  seal?: { seq: number; leaf: number };
}

/** An entry as it may look later: with the marks the sealer leaves. */
export type LedgerDoc = LedgerEntry & LedgerMark;

/** How far the walk has sealed an org: the key of the last entry it passed. */
export interface SealCursor {
  acceptedAt: string;
  eventId: string;
}

/** Query clause: entries whose key comes after the cursor. */
export function afterCursor(cursor: SealCursor | undefined): object {
  if (!cursor) return { match_all: {} };
  return {
    bool: {
      should: [
        { range: { acceptedAt: { gt: cursor.acceptedAt } } },
        {
          bool: {
            filter: [
              { term: { acceptedAt: cursor.acceptedAt } },
              { range: { eventId: { gt: cursor.eventId } } },
            ],
          },
        },
      ],
      minimum_should_match: 1,
    },
  };
}

/**
 * The marks that take an entry out of the walk (for `must_not`): waiting for a late seal, or sealed by one
 * (or by the design before the cursor, which marked every entry it sealed).
 */
export const MARKED = [{ term: { waiting: true } }, { term: { sealed: true } }];

/** Query clause: the unmarked entries with keys after `cursor`, up to `last` (inclusive) when given. */
export function unmarkedBetween(cursor: SealCursor | undefined, last?: SealCursor): object {
  return {
    bool: { filter: [afterCursor(cursor)], must_not: [...MARKED, ...(last ? [afterCursor(last)] : [])] },
  };
}

/** Query clause: entries waiting for a late seal that none has taken yet. */
export const WAITING = {
  bool: { filter: [{ term: { waiting: true } }], must_not: [{ term: { sealed: true } }] },
};

/**
 * Query clause: the org's entries not in a seal yet — unmarked ones after the cursor of its newest seal, and
 * waiting ones no late seal has taken.
 */
export function pendingClause(orgId: string, cursor: SealCursor | undefined): object {
  return {
    bool: {
      filter: [{ term: { orgId } }],
      should: [unmarkedBetween(cursor), WAITING],
      minimum_should_match: 1,
    },
  };
}

/** Makes every entry written so far searchable. */
export async function refreshLedger(store: Store): Promise<void> {
  await guarded(store.indices.refresh({ index: INTERNAL.ledger }));
}

/** How many of the org's entries are not in a seal yet (after a refresh, so it is exact at that moment). */
export async function countPending(
  store: Store,
  orgId: string,
  cursor: SealCursor | undefined,
): Promise<number> {
  await refreshLedger(store);
  const res = await guarded(
    store.count({ index: INTERNAL.ledger, body: { query: pendingClause(orgId, cursor) } }),
  );
  return (res.body as { count: number }).count;
}

/** Orgs with entries accepted after `since` (all orgs with entries when undefined), or waiting ones. */
export async function orgsWithEntries(store: Store, since?: string): Promise<string[]> {
  const query = since
    ? {
        bool: {
          should: [{ range: { acceptedAt: { gt: since } } }, WAITING],
          minimum_should_match: 1,
        },
      }
    : { match_all: {} };
  const buckets = await allBuckets<{ key: { orgId: string } }>(store, INTERNAL.ledger, 'orgId', query);
  return buckets.map((b) => b.key.orgId);
}

/** The first `size` of the org's entries waiting for a late seal, in key order. */
export async function waitingEntries(store: Store, orgId: string, size: number): Promise<LedgerDoc[]> {
  const res = await guarded(
    store.search({
      index: INTERNAL.ledger,
      body: {
        size,
        query: { bool: { filter: [{ term: { orgId } }, WAITING] } },
        sort: [{ acceptedAt: 'asc' }, { eventId: 'asc' }],
      },
    }),
  );
  return (res.body as { hits: { hits: { _source: LedgerDoc }[] } }).hits.hits.map((h) => h._source);
}

/** How many of the org's entries are marked as sealed in seal `seq`. */
export async function countMarkedWith(store: Store, orgId: string, seq: number): Promise<number> {
  const res = await guarded(
    store.count({
      index: INTERNAL.ledger,
      body: {
        query: { bool: { filter: [{ term: { orgId } }, { term: { 'seal.seq': seq } }] } },
      },
    }),
  );
  return (res.body as { count: number }).count;
}

/** The org's entries of these events by realtime multi-get (undefined: none), with only `fields` if given. */
export async function getEntries(
  store: Store,
  orgId: string,
  eventIds: string[],
  fields?: string[],
): Promise<(LedgerDoc | undefined)[]> {
  return getEntriesOf(
    store,
    eventIds.map((eventId) => ({ orgId, eventId })),
    fields ? { fields } : {},
  );
}

/** The entries of events of any orgs by realtime multi-get (undefined: none); `call` bounds the request. */
export async function getEntriesOf(
  store: Store,
  refs: { orgId: string; eventId: string }[],
  options: { fields?: string[]; call?: CallOptions } = {},
): Promise<(LedgerDoc | undefined)[]> {
  return getMany<LedgerDoc>(
    store,
    refs.map((r) => ({ _index: INTERNAL.ledger, _id: eventDocId(r.orgId, r.eventId) })),
    {
      ...(options.fields ? { source: options.fields } : {}),
      ...(options.call ? { call: options.call } : {}),
    },
  );
}

/** The entry of one event by realtime GET, or undefined. */
export async function getEntry(store: Store, orgId: string, eventId: string): Promise<LedgerDoc | undefined> {
  return getSource<LedgerDoc>(store, INTERNAL.ledger, eventDocId(orgId, eventId));
}

/**
 * Sets marks on the org's entries, `refresh`ed when asked. An entry gone meanwhile (404: released) is passed
 * over; any other failure is StoreUnavailable naming the entry and `what` the mark was.
 */
export async function markEntries(
  store: Store,
  orgId: string,
  marks: [eventId: string, mark: LedgerMark][],
  refresh: boolean,
  what: string,
): Promise<void> {
  if (marks.length === 0) return;
  const res = await guarded(
    store.bulk({
      // A concurrent re-stamp by the write path replaces the entry: apply the mark to the entry as it is then.
      body: marks.flatMap(([eventId, doc]) => [
        { update: { _index: INTERNAL.ledger, _id: eventDocId(orgId, eventId), retry_on_conflict: 5 } },
        { doc },
      ]) as never,
      refresh,
    }),
  );
  const b = res.body as {
    errors: boolean;
    items: Record<string, { _id: string; status: number; error?: { reason?: string } }>[];
  };
  const bad = b.items.map((i) => Object.values(i)[0]!).find((i) => i.error && i.status !== 404);
  if (bad)
    throw new StoreUnavailable(`marking ledger entry ${bad._id} ${what}: ${bad.error?.reason ?? bad.status}`);
}

/** How many of the org's entries were accepted in the window. */
export async function countEntries(store: Store, orgId: string, window: AcceptedWindow): Promise<number> {
  const res = await guarded(
    store.count({ index: INTERNAL.ledger, body: { query: orgAccepted(orgId, window) } }),
  );
  return (res.body as { count: number }).count;
}

/** The org's entries accepted in the window, in key order, a page at a time. */
export function scanEntries(store: Store, orgId: string, window: AcceptedWindow): AsyncGenerator<LedgerDoc> {
  return scanSources<LedgerDoc>(store, INTERNAL.ledger, orgAccepted(orgId, window), [
    { acceptedAt: 'asc' },
    { eventId: 'asc' },
  ]);
}

// --- The write path's writes of an entry ------------------------------------------------------------------

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
