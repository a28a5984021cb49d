/**
 * The walk: ledger entries after the newest seal's `cursor`, in key order (acceptedAt, eventId), accepted up to
 * a bound, a window at a time → a check that their events exist (two counts, else per id: allStored,
 * readEvents) → a seal of those whose event is there, carrying the leaves the write path put in the ledger and
 * the new cursor. (Entries ingested with AUDIT_SEALING=false carry no leaf: their events are read and hashed
 * here.) An entry passed while its event is missing (a write still in flight, or one that failed) is listed in
 * the seal's `skipped` and marked `waiting` afterwards, for the late pass (late.ts).
 */
import type { StoredEvent } from '../../events/schema.ts';
import { countEventsInSpan, countStoredPairs, getEvents } from '../../store/event-lookups.ts';
import type { LedgerEntry, SealCursor } from '../../store/ledger-store.ts';
import {
  spanTotals,
  walkEntries,
  walkHistogram,
  walkSpan,
  type WalkWindow,
} from '../../store/ledger-walk.ts';
import type { Store } from '../../store/client.ts';
import type { SealHead } from '../checkpoint.ts';
import { leafOfEvent } from '../event-hash.ts';
import { atOrBefore, compareKeys } from '../ledger.ts';
import { batchOf } from '../written.ts';
import type { OrgResult, Sealing } from './sealer-context.ts';
import { createSeal, markWaiting } from './seal.ts';

/**
 * Most entries a walk window holds, as counted when the windows are made: below the default walkFetch by enough
 * room for the already sealed entries that share the cursor's acceptedAt (the fetch includes them).
 */
const WINDOW_CAP = 8_000;
/** Most histogram buckets the windows are made from (OpenSearch's search.max_buckets is 65,535). */
const WINDOW_BUCKETS = 10_000;
/** An entry whose event exists, with its leaf. */
export type Sealable = LedgerEntry & { leaf: string; storedHash: string };
/** An entry whose event is stored under another acceptedAt (another attempt with the same id wrote it). */
const ELSEWHERE = 'elsewhere';
/** What the walk learns of an entry's event: sealable, stored under another acceptedAt, or not there (yet). */
type Read = Sealable | typeof ELSEWHERE | undefined;
const isSealable = (r: Read): r is Sealable => r !== undefined && r !== ELSEWHERE;

export const keyOf = (e: SealCursor): SealCursor => ({ acceptedAt: e.acceptedAt, eventId: e.eventId });

/** The walk up to `until` (acceptedAt, inclusive), batch after batch. `stop`: the org is done for this round. */
export async function walkUntil(
  s: Sealing,
  orgId: string,
  head: SealHead | undefined,
  until: string,
  out: OrgResult,
): Promise<{ head: SealHead | undefined; stop?: boolean }> {
  const windows = await windowsOf(s, orgId, head?.cursor, until);
  for (;;) {
    const window = windows[0];
    if (!window) return { head };
    const { entries, done } = await walk(s, orgId, head?.cursor, window);
    out.walked += entries.length;
    if (done) windows.shift();
    if (entries.length === 0) continue;
    const read: Read[] =
      (await allStored(s.ctx.store, orgId, head?.cursor, entries)) ?? (await readEvents(s, entries));
    const ready = read.filter(isSealable);
    const missing = entries.filter((_, k) => !isSealable(read[k]));
    if (ready.length === 0) {
      // Nothing to seal yet. Entries missing for longer than the grace, or whose event is stored under
      // another acceptedAt, are set aside for the late pass; younger missing ones are waited for, and this
      // org is looked at again next round.
      const now = Date.now();
      const orphans = missing.filter(
        (e, k) => read[k] === ELSEWHERE || now - Date.parse(e.acceptedAt) > s.opts.missingEventGraceMs,
      ); // (missing is every entry here, so k is its place in `read`)
      if (orphans.length < missing.length) {
        out.leftBehind = true;
        return { head, stop: true };
      }
      await markWaiting(
        s,
        orphans.map((e) => e.eventId),
        orgId,
        true,
      );
      continue;
    }
    const seal = await createSeal(s, orgId, batchOf(ready), head, {
      cursor: keyOf(entries[entries.length - 1]!),
      ...(missing.length > 0 ? { skipped: missing.map((e) => e.eventId) } : {}),
    });
    if (!seal) return { head, stop: true }; // another sealer took this seq; it will carry on
    if (missing.length > 0) await markWaiting(s, seal.skipped!, orgId);
    out.sealed.push({ orgId, seq: seal.seq, count: seal.count });
    head = seal;
  }
}

/**
 * Upper bounds (acceptedAt) that cut the entries between the cursor and the cutoff into windows of at most
 * batchCap (and WINDOW_CAP) entries, from one histogram, so that each batch's fetch looks at its own window
 * and not at the whole backlog. The last window ends at the cutoff. A window denser than that (one histogram
 * bucket holding more) is simply walked in several batches.
 */
async function windowsOf(
  s: Sealing,
  orgId: string,
  cursor: SealCursor | undefined,
  cutoff: string,
): Promise<WalkWindow[]> {
  const last: WalkWindow = { lte: cutoff };
  const span = await walkSpan(s.ctx.store, orgId, cursor, last);
  if (!span) return [last];
  // Buckets of whole milliseconds (acceptedAt's precision), at most WINDOW_BUCKETS of them whatever the span.
  const interval = Math.max(1, Math.ceil((span.last - span.first + 1) / WINDOW_BUCKETS));
  const buckets = await walkHistogram(s.ctx.store, orgId, cursor, last, {
    intervalMs: interval,
    offsetMs: span.first % interval,
  });
  const out: WalkWindow[] = [];
  let sum = 0;
  for (const b of buckets) {
    if (sum > 0 && sum + b.doc_count > Math.min(s.opts.batchCap, WINDOW_CAP)) {
      out.push({ lt: new Date(b.key).toISOString() });
      sum = 0;
    }
    sum += b.doc_count;
  }
  out.push(last);
  return out;
}

/**
 * The next batch of the walk: unmarked entries after the cursor, in the window, in key order, and whether
 * the window is done after it. A window holds at most WINDOW_CAP entries as the histogram counted them, so it
 * is fetched whole in index order and sorted here, which costs OpenSearch far less than a sorted search;
 * only a window the fetch cannot hold is walked sorted.
 */
async function walk(
  s: Sealing,
  orgId: string,
  cursor: SealCursor | undefined,
  window: WalkWindow,
): Promise<{ entries: LedgerEntry[]; done: boolean }> {
  const cap = s.opts.batchCap;
  const whole = await walkEntries(s.ctx.store, orgId, cursor, window, s.opts.walkFetch);
  if (whole.length < s.opts.walkFetch) {
    const after = whole.filter((e) => !atOrBefore(e, cursor)).sort(compareKeys);
    return { entries: after.slice(0, cap), done: after.length <= cap };
  }
  const entries = await walkEntries(s.ctx.store, orgId, cursor, window, cap, true);
  return { entries, done: entries.length < cap };
}

/**
 * Each entry with its leaf when its event is in its day index with the entry's very acceptedAt, else
 * undefined. An event stored with another acceptedAt belongs to another attempt with the same id (a retry
 * re-stamped the entry while the first attempt's write was still landing): sealing it under this entry
 * could seal it twice, so it is left to the late pass, which looks at what is already sealed. Per day index,
 * one count of the (id, acceptedAt) pairs settles the usual case, all there; otherwise, and for entries
 * ingested with sealing off (no leaf in the ledger), a realtime multi-get says which.
 */
async function readEvents(s: Sealing, entries: LedgerEntry[]): Promise<Read[]> {
  const out: Read[] = entries.map(() => undefined);
  const toGet: number[] = [];
  const byIndex = new Map<string, number[]>();
  entries.forEach((e, k) => {
    if (e.leaf === undefined || e.storedHash === undefined) toGet.push(k);
    else {
      const ks = byIndex.get(e.index);
      if (ks) ks.push(k);
      else byIndex.set(e.index, [k]);
    }
  });
  for (const [index, ks] of byIndex) {
    const count = await countStoredPairs(
      s.ctx.store,
      index,
      ks.map((k) => entries[k]!),
    );
    if (count === ks.length) {
      for (const k of ks) out[k] = entries[k] as Sealable;
    } else toGet.push(...ks);
  }
  if (toGet.length === 0) return out;
  const docs = await eventsOfEntries(
    s,
    toGet.map((k) => entries[k]!),
  );
  docs.forEach((doc, j) => {
    const k = toGet[j]!;
    const e = entries[k]!;
    if (!doc) return;
    if (Date.parse(doc.acceptedAt!) !== Date.parse(e.acceptedAt)) out[k] = ELSEWHERE;
    else
      out[k] =
        e.leaf !== undefined && e.storedHash !== undefined
          ? (e as Sealable)
          : { ...e, ...leafOfEvent(doc as StoredEvent) };
  });
  return out;
}

/**
 * The stored events of entries by realtime multi-get (undefined: not there): whole where the entry has no
 * leaf to take, else only their acceptedAt.
 */
export async function eventsOfEntries(
  s: Sealing,
  entries: LedgerEntry[],
): Promise<(Partial<StoredEvent> | undefined)[]> {
  return getEvents<Partial<StoredEvent>>(
    s.ctx.store,
    entries.map((e) => ({
      index: e.index,
      orgId: e.orgId,
      eventId: e.eventId,
      ...(e.leaf === undefined || e.storedHash === undefined ? {} : { fields: ['acceptedAt'] }),
    })),
  );
}

/**
 * A batch of the walk — the unmarked entries with keys in (cursor, last entry] — all sealable, when counts
 * prove each one's event is stored with the entry's acceptedAt; undefined when they do not (then the events
 * are looked up one by one) or when some entry has no leaf. Cheap whatever the batch size:
 *  - in the ledger, in one view: the entries of the batch's span of acceptedAt, and those of them the walk
 *    would take. The latter must still be exactly the batch: an entry the write path re-stamped (or released)
 *    since the walk read it has left, and its walked copy — old acceptedAt, old leaf — must not be sealed;
 *  - in the day indices: the events of the span. An event is only ever written with its ledger entry's
 *    acceptedAt, after the entry (ingest.ts), and an entry of a span before the cutoff that was not
 *    visible to the walk is re-stamped out of it before its event is written (../ledger.ts), so the span's
 *    events are a subset of its entries: equal counts mean every entry of the span, the batch included, has
 *    its event.
 */
export async function allStored(
  store: Store,
  orgId: string,
  cursor: SealCursor | undefined,
  entries: LedgerEntry[],
): Promise<Sealable[] | undefined> {
  if (entries.length === 0) return [];
  if (entries.some((e) => e.leaf === undefined || e.storedHash === undefined)) return undefined;
  const last = entries[entries.length - 1]!;
  const span = { first: entries[0]!.acceptedAt, last: last.acceptedAt };
  const [ledger, stored] = await Promise.all([
    spanTotals(store, orgId, span, cursor, keyOf(last)),
    countEventsInSpan(store, [...new Set(entries.map((e) => e.index))], orgId, span),
  ]);
  return ledger.unmarked === entries.length && ledger.span === stored ? (entries as Sealable[]) : undefined;
}
