/**
 * The SIEM stream (docs/api.md, "SIEM stream"): an org's entries in the order they were sealed,
 * which is their acceptance order (an entry whose event was written late is in a later, "late" seal). The position is `(seq, leaf)`: the next leaf to deliver in the seal `seq`.
 * Seals are numbered without gaps and never change, and each lists its event ids in leaf order, so walking
 * seal after seal, leaf after leaf, visits every sealed entry exactly once, whatever its createdAt. An entry
 * appears once its seal exists; nothing behind the position can ever appear later.
 *
 * Reads are realtime GETs (seal, ledger, events), never searches, so a refresh lag cannot hide anything.
 */
import { toEntry, type AuditEntry, type StoredEvent } from '../events/schema.ts';
import type { ReadScope } from '../directory/access.ts';
import type { Store } from '../store/client.ts';
import { getEvents } from '../store/event-lookups.ts';
import { getEntries } from '../store/ledger-store.ts';
import { getSealEventIds, sealExists } from '../store/seal-store.ts';

export interface StreamPosition {
  /** The seal holding the next entry to deliver (the first seal is 1). */
  seq: number;
  /** The next leaf to deliver within that seal. */
  leaf: number;
}

export const STREAM_START: StreamPosition = { seq: 1, leaf: 0 };

export interface StreamFilters {
  /** Exact actions; one ending in `*` matches every action starting with what precedes it. */
  actions?: string[];
  resourceTypes?: string[];
  workspaceId?: string;
  actorId?: string;
  /** Any of these workspaces (a push stream's filter). */
  workspaceIds?: string[];
}

const actionMatches = (actions: string[], action: string) =>
  actions.some((a) => (a.endsWith('*') ? action.startsWith(a.slice(0, -1)) : a === action));

export interface StreamPage {
  entries: AuditEntry[];
  /** Where the next request continues: after the last entry looked at (delivered or filtered out). */
  next: StreamPosition;
  /** True when every sealed entry has been looked at: poll again later. False: ask again at once. */
  caughtUp: boolean;
}

/** Event ids fetched per round trip while walking a seal, and how many such round trips at once at most. */
const CHUNK = 500;
const PARALLEL = 4;

/**
 * The stored events of `eventIds` (undefined where gone, e.g. deleted with their day past retention). Each is
 * read in the day index its seal names (`indices`, which seals made before they kept it lack), else — or when
 * it is not there — in the index its ledger entry names: the ledger binds an id to one index, so no other
 * copy can be found in the seal's. The seal saves reading a ledger entry per event.
 */
async function eventsOf(
  store: Store,
  orgId: string,
  eventIds: string[],
  indices: string[] | undefined,
): Promise<(StoredEvent | undefined)[]> {
  const found = new Map<string, StoredEvent>();
  const keep = (events: (StoredEvent | undefined)[]) => {
    // The org check is tenant isolation: an id only ever counts for the org whose seal lists it.
    for (const e of events) if (e && e.orgId === orgId) found.set(e.id, e);
  };
  if (indices)
    keep(
      await getEvents(
        store,
        eventIds.map((eventId, k) => ({ index: indices[k]!, orgId, eventId })),
      ),
    );
  const rest = eventIds.filter((id) => !found.has(id));
  if (rest.length > 0) {
    const ledger = await getEntries(store, orgId, rest, ['index']);
    keep(
      await getEvents(
        store,
        rest.flatMap((eventId, k) => (ledger[k] ? [{ index: ledger[k]!.index, orgId, eventId }] : [])),
      ),
    );
  }
  return eventIds.map((id) => found.get(id));
}

function matches(e: StoredEvent, scope: ReadScope, f: StreamFilters): boolean {
  if (scope.workspaceId !== undefined && e.workspaceId !== scope.workspaceId) return false;
  if (f.workspaceId !== undefined && e.workspaceId !== f.workspaceId) return false;
  if (f.actorId !== undefined && e.actorId !== f.actorId) return false;
  if (f.workspaceIds && !f.workspaceIds.includes(e.workspaceId ?? '')) return false;
  if (f.actions && !actionMatches(f.actions, e.action)) return false;
  if (f.resourceTypes && !f.resourceTypes.includes(e.resourceType)) return false;
  return true;
}

/**
 * Up to `limit` matching entries after `from`. Looks at no more than `maxScan` entries per call, so a
 * selective filter over a long history answers quickly with fewer entries (and `caughtUp: false`).
 */
export async function readStream(
  store: Store,
  scope: ReadScope,
  filters: StreamFilters,
  from: StreamPosition,
  limit: number,
  maxScan = 10_000,
  /**
   * Stop at the end of the seal `from` is in: the page then depends on `from` alone (seals never change), so
   * a push stream re-reading the same position gets the same batch, whatever was sealed since.
   */
  withinSeal = false,
): Promise<StreamPage> {
  const entries: AuditEntry[] = [];
  let { seq, leaf } = from;
  let scanned = 0;
  while (entries.length < limit && scanned < maxScan) {
    const seal = await getSealEventIds(store, scope.orgId, seq);
    if (!seal) return { entries, next: { seq, leaf }, caughtUp: true };
    const ids = seal.eventIds;
    while (leaf < ids.length && entries.length < limit && scanned < maxScan) {
      // The chunks that could fill the page, read at once (more are read only where a filter drops entries).
      const end =
        leaf + Math.min(limit - entries.length, maxScan - scanned, ids.length - leaf, CHUNK * PARALLEL);
      const chunks: Promise<(StoredEvent | undefined)[]>[] = [];
      for (let at = leaf; at < end; at += CHUNK) {
        const to = Math.min(at + CHUNK, end);
        chunks.push(eventsOf(store, scope.orgId, ids.slice(at, to), seal.indices?.slice(at, to)));
      }
      for (const e of (await Promise.all(chunks)).flat()) {
        leaf++;
        scanned++;
        if (e && matches(e, scope, filters)) entries.push(toEntry(e));
      }
    }
    if (leaf >= ids.length) {
      seq++;
      leaf = 0;
      if (withinSeal) break;
    }
  }
  // Stopped by the limit or the scan budget within a seal: more is there. Past a seal's end: more is there if the
  // next seal is.
  const caughtUp = leaf === 0 && !(await sealExists(store, scope.orgId, seq));
  return { entries, next: { seq, leaf }, caughtUp };
}
