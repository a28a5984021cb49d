/**
 * The sealer: turns each org's newly ingested events into the next seal of its chain (checkpoint.ts), in
 * ingestion order, within a bounded delay. One instance leads at a time (lease.ts); a seal is `create`d under
 * `<orgId>:<seq>`, so a second sealer racing for the same seq fails instead of forking the chain.
 *
 * A round refreshes the ledger, then per org with new entries:
 *  - from memory: the entries this process's write path stored itself (written.ts), while a count shows the
 *    ledger holds nothing else in their range — one for the round's own entries, one per batch only when
 *    something else is among them (sealWritten); the walk below covers the rest;
 *  - the walk: ledger entries after the newest seal's `cursor`, in key order (acceptedAt, eventId), accepted
 *    before the round's cutoff (now − safety margin), a window at a time → a check that their events exist
 *    (two counts, else per id: allStored, readEvents) → a seal of those whose event is there, carrying the
 *    leaves the write path put in the ledger and the new cursor.
 *    (Entries ingested with AUDIT_SEALING=false carry no leaf: their events are read and hashed here.)
 *    Nothing is written per event: the cursor in the seal says what is done (ledger.ts explains why an
 *    entry can never become visible behind it). An entry passed while its event is missing (a write still
 *    in flight, or one that failed) is listed in the seal's `skipped` and marked `waiting` afterwards;
 *  - late seals: waiting entries whose event has appeared are sealed in a seal of their own (`late`), and
 *    marked `sealed: true, seal: { seq, leaf }`.
 * A crash between creating a seal and writing its marks is repaired from the newest seal before anything
 * else. Entries are held back and reported, never sealed, when their event has not appeared after
 * `missingEventGraceMs`, or when they were accepted more than `lateGraceMs` before the newest seal was made:
 * sealing such an entry would launder what a back-dated insertion looks like. `npm run verify` lists both.
 */
import crypto from 'node:crypto';
import os from 'node:os';
import type { AppContext } from '../context.ts';
import { allBuckets, statusOf, type Store } from '../store/client.ts';
import { eventDocId, INTERNAL } from '../store/names.ts';
import {
  checkpointSignatureValid,
  packSeal,
  sealHashOf,
  sealId,
  signCheckpoint,
  type SealHead,
} from './checkpoint.ts';
import {
  atOrBefore,
  compareKeys,
  idHashOf,
  MARKED,
  SEAL_SAFETY_MARGIN_MS,
  unmarkedBetween,
  WAITING,
  type LedgerDoc,
  type LedgerEntry,
  type SealCursor,
} from './ledger.ts';
import { Lease } from './lease.ts';
import { batchOf, keyAt, sliceBatch, type EntryBatch } from './written.ts';
import { merkleRootOf } from './merkle.ts';
import { leafOfEvent } from './leaf.ts';
import type { StoredEvent } from '../events/schema.ts';
import { newestSeal } from './seals.ts';
import type { SigningKey } from './signing.ts';

export interface SealerOptions {
  /** Most events in one seal (a seal document holds three lists of this length). */
  batchCap: number;
  /**
   * Most entries one unsorted fetch of a walk window may return (at most OpenSearch's index.max_result_window);
   * a window with more is walked with sorted searches instead.
   */
  walkFetch: number;
  /** Entries younger than this are left for the next round (see SEAL_SAFETY_MARGIN_MS). */
  safetyMarginMs: number;
  /** How often a round runs. */
  periodMs: number;
  /** A ledger entry whose event is still missing after this long is reported. */
  missingEventGraceMs: number;
  /** An unsealed entry accepted this long before the newest seal was made is reported, not sealed. */
  lateGraceMs: number;
  leaseTtlMs: number;
}

/** Defaults derived from AUDIT_SEAL_INTERVAL_SECONDS: an event waits about one interval (at least the margin). */
export function sealerOptions(sealIntervalMs: number, overrides: Partial<SealerOptions> = {}): SealerOptions {
  const safetyMarginMs = SEAL_SAFETY_MARGIN_MS;
  return {
    batchCap: 10_000,
    walkFetch: 10_000,
    safetyMarginMs,
    periodMs: Math.max(250, sealIntervalMs - safetyMarginMs),
    missingEventGraceMs: 5 * 60_000,
    lateGraceMs: 10 * 60_000,
    leaseTtlMs: Math.max(3 * sealIntervalMs, 5000),
    ...overrides,
  };
}

export interface Held {
  orgId: string;
  eventId: string;
  reason: 'event-missing' | 'accepted-before-newest-seal';
  detail: string;
}

export interface RoundResult {
  leader: boolean;
  sealed: { orgId: string; seq: number; count: number }[];
  held: Held[];
}

export interface OrgResult extends Omit<RoundResult, 'leader'> {
  /** Entries before the cutoff were left for a later round (their events were still being written). */
  leftBehind: boolean;
  /** Ledger entries the walk read back from OpenSearch (those this process wrote itself are not read). */
  walked: number;
}

type Ctx = Pick<AppContext, 'store' | 'written'>;

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
/** Most (acceptedAt, ids) clauses one query holds (OpenSearch allows 1,024 clauses by default). */
const MAX_TIME_CLAUSES = 500;
type Hit = { _source: LedgerDoc; sort: (string | number)[] };

/** Where a batch of the walk ends: before `lt`, or at `lte` (the round's cutoff). */
type WalkWindow = { lt: string } | { lte: string };

const keyOf = (e: SealCursor): SealCursor => ({ acceptedAt: e.acceptedAt, eventId: e.eventId });

export class Sealer {
  readonly holder = `${os.hostname()}:${process.pid}:${crypto.randomBytes(4).toString('hex')}`;
  private readonly lease: Lease;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = false;
  /** Entries already reported, so a held entry is logged once per process, not every round. */
  private readonly reported = new Set<string>();

  constructor(
    private readonly ctx: Ctx,
    private readonly key: SigningKey,
    readonly opts: SealerOptions,
    private readonly log: (msg: string) => void = (m) => console.warn(m),
  ) {
    this.lease = new Lease(ctx.store, 'sealer', this.holder, opts.leaseTtlMs);
  }

  /**
   * Runs a round at once (so an instance that can lead does so from its start, and its write path hands over
   * what it stores: written.ts), then every `periodMs` until stop(). A failed round is logged and retried at
   * the next tick.
   */
  start(): void {
    const tick = () => {
      this.running = this.round()
        .catch((err: unknown) =>
          this.log(`sealer: round failed, retrying in ${this.opts.periodMs} ms: ${String(err)}`),
        )
        .finally(() => {
          this.running = undefined;
          if (!this.stopped) this.timer = setTimeout(tick, this.opts.periodMs).unref();
        });
    };
    this.timer = setTimeout(tick, 0).unref();
  }

  /** Orderly stop: no new round, waits for the current one, hands the lease over. */
  async stop(): Promise<void> {
    this.halt();
    await this.running;
    await this.lease.release().catch(() => undefined);
  }

  /** Abrupt stop (what a killed process looks like to the others): no more rounds, the lease is kept to expire. */
  halt(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.leading(false);
  }

  /** Tells this process's write path whether its sealer leads (written.ts). */
  private leading(yes: boolean): void {
    if (this.ctx.written) this.ctx.written.leading = yes;
  }

  /**
   * One round: if this instance leads, seals every org with new entries. Entries accepted before the last
   * round's cutoff need not be looked for again (ledger.ts), except in orgs that round could not finish,
   * which are kept for the next one.
   */
  async round(now = Date.now()): Promise<RoundResult> {
    const result: RoundResult = { leader: false, sealed: [], held: [] };
    if (!(await this.lease.acquire(now))) {
      this.leading(false);
      this.since = undefined; // another instance leads; if this one takes over, it looks at everything once
      return result;
    }
    this.leading(true);
    result.leader = true;
    const cutoff = new Date(now - this.opts.safetyMarginMs).toISOString();
    await this.ctx.store.indices.refresh({ index: INTERNAL.ledger });
    const orgs = new Set([...this.retry, ...(await this.pendingOrgs(this.since))]);
    const unfinished = new Set<string>();
    for (const orgId of orgs) {
      if (this.stopped) return result;
      try {
        const r = await this.sealOrg(orgId, cutoff);
        result.sealed.push(...r.sealed);
        result.held.push(...r.held);
        if (r.leftBehind) unfinished.add(orgId);
        if (this.failing.delete(orgId)) this.log(`sealer: org ${orgId} is being sealed again`);
      } catch (err) {
        unfinished.add(orgId);
        // Retried every round; said once per org and reason, not every round.
        const why = String(err);
        if (this.failing.get(orgId) !== why)
          this.log(`sealer: org ${orgId} not sealed, retrying every round: ${why}`);
        this.failing.set(orgId, why);
      }
      // Keep the lease alive through long rounds; if it was lost, the new leader carries on.
      if (!(await this.lease.acquire())) {
        this.leading(false);
        this.since = undefined;
        return result;
      }
    }
    this.since = cutoff;
    this.retry = unfinished;
    return result;
  }

  /** The cutoff of the last round this instance finished as leader, and the orgs it could not finish. */
  private since: string | undefined;
  private retry = new Set<string>();
  /** Orgs whose last attempt failed, with the reason last logged. */
  private readonly failing = new Map<string, string>();

  /**
   * Seals the org's entries accepted up to `cutoff` (default: now − safety margin, after a refresh of the
   * ledger), batch after batch. Usable without the lease: `create` keeps it safe.
   */
  async sealOrg(orgId: string, cutoff?: string): Promise<OrgResult> {
    if (cutoff === undefined) {
      cutoff = new Date(Date.now() - this.opts.safetyMarginMs).toISOString();
      await this.ctx.store.indices.refresh({ index: INTERNAL.ledger });
    }
    const out: OrgResult = { sealed: [], held: [], leftBehind: false, walked: 0 };
    let head = await newestSeal(this.ctx.store, orgId);
    if (head) {
      if (sealHashOf(head) !== head.sealHash || !checkpointSignatureValid(head, this.key)) {
        // Never extend a chain whose head this key did not sign as it is: that would bless a rewrite.
        throw new Error(
          `the newest seal ${head.seq} does not verify under key ${this.key.keyId}; run npm run verify -- --org ${orgId}`,
        );
      }
      await this.repairMarks(head);
      head = await this.sealLate(orgId, head, out);
    }
    // What this process wrote itself is sealed from memory; the ledger is walked up to the next such entry
    // (entries of other instances, or re-stamped ones), then memory again, and so on up to the cutoff.
    for (;;) {
      const mine = await this.sealWritten(orgId, head, cutoff, out);
      if (mine.lost) return out;
      const walked = await this.walkUntil(orgId, mine.head, mine.blockedAt ?? cutoff, out);
      if (walked.stop || mine.blockedAt === undefined) return out;
      if (walked.head === mine.head) return out; // nothing walked: left for the next round
      head = walked.head;
    }
  }

  /** The walk up to `until` (acceptedAt, inclusive), batch after batch. `stop`: the org is done for this round. */
  private async walkUntil(
    orgId: string,
    head: SealHead | undefined,
    until: string,
    out: OrgResult,
  ): Promise<{ head: SealHead | undefined; stop?: boolean }> {
    const windows = await this.windows(orgId, head?.cursor, until);
    for (;;) {
      const window = windows[0];
      if (!window) return { head };
      const { entries, done } = await this.walk(orgId, head?.cursor, window);
      out.walked += entries.length;
      if (done) windows.shift();
      if (entries.length === 0) continue;
      const read: Read[] =
        (await allStored(this.ctx.store, orgId, head?.cursor, entries)) ?? (await this.readEvents(entries));
      const ready = read.filter(isSealable);
      const missing = entries.filter((_, k) => !isSealable(read[k]));
      if (ready.length === 0) {
        // Nothing to seal yet. Entries missing for longer than the grace, or whose event is stored under
        // another acceptedAt, are set aside for the late pass; younger missing ones are waited for, and this
        // org is looked at again next round.
        const now = Date.now();
        const orphans = missing.filter(
          (e, k) => read[k] === ELSEWHERE || now - Date.parse(e.acceptedAt) > this.opts.missingEventGraceMs,
        ); // (missing is every entry here, so k is its place in `read`)
        if (orphans.length < missing.length) {
          out.leftBehind = true;
          return { head, stop: true };
        }
        await this.markWaiting(
          orphans.map((e) => e.eventId),
          orgId,
          true,
        );
        continue;
      }
      const seal = await this.createSeal(orgId, batchOf(ready), head, {
        cursor: keyOf(entries[entries.length - 1]!),
        ...(missing.length > 0 ? { skipped: missing.map((e) => e.eventId) } : {}),
      });
      if (!seal) return { head, stop: true }; // another sealer took this seq; it will carry on
      if (missing.length > 0) await this.markWaiting(seal.skipped!, orgId);
      out.sealed.push({ orgId, seq: seal.seq, count: seal.count });
      head = seal;
    }
  }

  /**
   * Seals, batch after batch, the entries this process's write path wrote itself (written.ts), as long as the
   * ledger holds nothing else in a batch's range — the unmarked entries with keys in (cursor, last of the
   * batch] — which one count and sum of id hashes settle: those entries are in the ledger with their events
   * stored, unless a producer's retry re-stamped one (moved it to a later key), so the range holds exactly
   * them when its count and sum are theirs. When it holds more (others' entries), the longest prefix without
   * another is found by bisection (the surplus only grows along the batch) and sealed, and `blockedAt` is the
   * acceptedAt of the first entry of this process after the others: the walk goes that far. When one of its
   * entries is missing, memory proves nothing: the org's entries are forgotten and the walk takes over.
   * `lost`: another sealer took the next seq.
   */
  private async sealWritten(
    orgId: string,
    head: SealHead | undefined,
    cutoff: string,
    out: OrgResult,
  ): Promise<{ head: SealHead | undefined; blockedAt?: string; lost?: boolean }> {
    const mine = this.ctx.written?.after(orgId, head?.cursor, cutoff);
    const total = mine?.eventIds.length ?? 0;
    if (!mine || total === 0) return { head };
    // The count and id-hash sum of the first n entries of memory, and what the ledger holds in their range.
    const sums = [0];
    for (const id of mine.eventIds) sums.push(sums[sums.length - 1]! + idHashOf(id));
    const ledgerHolds = async (from: number, n: number): Promise<'exactly' | 'more' | 'other'> => {
      const res = await this.ctx.store.search({
        index: INTERNAL.ledger,
        body: {
          size: 0,
          track_total_hits: true,
          query: {
            bool: { filter: [{ term: { orgId } }, unmarkedBetween(head?.cursor, keyAt(mine, from + n - 1))] },
          },
          aggs: { ids: { sum: { field: 'idHash' } } },
        },
      } as never);
      const body = res.body as unknown as {
        hits: { total: { value: number } };
        aggregations: { ids: { value: number } };
      };
      const count = body.hits.total.value;
      const sum = body.aggregations.ids.value;
      if (count === n && sum === sums[from + n]! - sums[from]!) return 'exactly';
      return count > n ? 'more' : 'other';
    };
    const forget = () => {
      this.ctx.written!.forget(orgId);
      return { head };
    };
    // Usually nothing else is there at all: one look for the whole round then, not one per batch.
    const all = await ledgerHolds(0, total);
    if (all === 'other') return forget();
    for (let i = 0; i < total;) {
      const batch = sliceBatch(mine, i, i + this.opts.batchCap);
      const size = batch.eventIds.length;
      let n = size; // how many of the batch, from its start, have nothing else in their range
      const holds = all === 'exactly' ? all : await ledgerHolds(i, n);
      if (holds === 'other') return forget();
      if (holds === 'more') {
        let lo = 0; // the longest prefix known to hold nothing else
        let hi = n - 1; // … is shorter than this
        while (lo < hi) {
          const mid = Math.ceil((lo + hi) / 2);
          const h = await ledgerHolds(i, mid);
          if (h === 'other') return forget();
          if (h === 'exactly') lo = mid;
          else hi = mid - 1;
        }
        n = lo;
      }
      if (n > 0) {
        const seal = await this.createSeal(orgId, sliceBatch(batch, 0, n), head, {
          cursor: keyAt(batch, n - 1),
        });
        if (!seal) return { head, lost: true };
        out.sealed.push({ orgId, seq: seal.seq, count: seal.count });
        head = seal;
      }
      if (n < size) return { head, blockedAt: batch.acceptedAt[n]! };
      i += n;
    }
    return { head };
  }

  /**
   * Upper bounds (acceptedAt) that cut the entries between the cursor and the cutoff into windows of at most
   * batchCap (and WINDOW_CAP) entries, from one histogram, so that each batch's fetch looks at its own window
   * and not at the whole backlog. The last window ends at the cutoff. A window denser than that (one histogram
   * bucket holding more) is simply walked in several batches.
   */
  private async windows(
    orgId: string,
    cursor: SealCursor | undefined,
    cutoff: string,
  ): Promise<WalkWindow[]> {
    const last: WalkWindow = { lte: cutoff };
    const query = this.walkQuery(orgId, cursor, last);
    const span = await this.ctx.store.search({
      index: INTERNAL.ledger,
      body: {
        size: 0,
        track_total_hits: false,
        query,
        aggs: { first: { min: { field: 'acceptedAt' } }, last: { max: { field: 'acceptedAt' } } },
      },
    } as never);
    const { first, last: end } = (
      span.body as unknown as {
        aggregations: { first: { value: number | null }; last: { value: number | null } };
      }
    ).aggregations;
    if (first.value === null || end.value === null) return [last];
    // Buckets of whole milliseconds (acceptedAt's precision), at most WINDOW_BUCKETS of them whatever the span.
    const interval = Math.max(1, Math.ceil((end.value - first.value + 1) / WINDOW_BUCKETS));
    const res = await this.ctx.store.search({
      index: INTERNAL.ledger,
      body: {
        size: 0,
        track_total_hits: false,
        query,
        aggs: {
          t: {
            date_histogram: {
              field: 'acceptedAt',
              fixed_interval: `${interval}ms`,
              offset: `${first.value % interval}ms`,
              min_doc_count: 1,
            },
          },
        },
      },
    } as never);
    const buckets =
      (res.body as unknown as { aggregations?: { t: { buckets: { key: number; doc_count: number }[] } } })
        .aggregations?.t.buckets ?? [];
    const out: WalkWindow[] = [];
    let sum = 0;
    for (const b of buckets) {
      if (sum > 0 && sum + b.doc_count > Math.min(this.opts.batchCap, WINDOW_CAP)) {
        out.push({ lt: new Date(b.key).toISOString() });
        sum = 0;
      }
      sum += b.doc_count;
    }
    out.push(last);
    return out;
  }

  private walkQuery(orgId: string, cursor: SealCursor | undefined, window: WalkWindow): object {
    return {
      bool: {
        filter: [
          { term: { orgId } },
          { range: { acceptedAt: { ...window, ...(cursor ? { gte: cursor.acceptedAt } : {}) } } },
        ],
        must_not: MARKED,
      },
    };
  }

  private report(h: Held, out: Omit<RoundResult, 'leader'>): void {
    out.held.push(h);
    const key = `${h.orgId}:${h.eventId}:${h.reason}`;
    if (this.reported.has(key)) return;
    if (this.reported.size > 10_000) this.reported.clear();
    this.reported.add(key);
    this.log(`sealer: org ${h.orgId} event ${h.eventId} not sealed (${h.reason}): ${h.detail}`);
  }

  /** Orgs with entries accepted after `since` (all orgs with entries when undefined), or waiting ones. */
  async pendingOrgs(since?: string): Promise<string[]> {
    const query = since
      ? {
          bool: {
            should: [{ range: { acceptedAt: { gt: since } } }, WAITING],
            minimum_should_match: 1,
          },
        }
      : { match_all: {} };
    const buckets = await allBuckets<{ key: { orgId: string } }>(
      this.ctx.store,
      INTERNAL.ledger,
      'orgId',
      query,
    );
    return buckets.map((b) => b.key.orgId);
  }

  /**
   * The next batch of the walk: unmarked entries after the cursor, in the window, in key order, and whether
   * the window is done after it. A window holds at most WINDOW_CAP entries as the histogram counted them, so it
   * is fetched whole in index order and sorted here, which costs OpenSearch far less than a sorted search;
   * only a window the fetch cannot hold is walked sorted.
   */
  private async walk(
    orgId: string,
    cursor: SealCursor | undefined,
    window: WalkWindow,
  ): Promise<{ entries: LedgerEntry[]; done: boolean }> {
    const cap = this.opts.batchCap;
    const whole = await this.walkSearch(orgId, cursor, window, this.opts.walkFetch);
    if (whole.length < this.opts.walkFetch) {
      const after = whole.filter((e) => !atOrBefore(e, cursor)).sort(compareKeys);
      return { entries: after.slice(0, cap), done: after.length <= cap };
    }
    const entries = await this.walkSearch(orgId, cursor, window, cap, true);
    return { entries, done: entries.length < cap };
  }

  private async walkSearch(
    orgId: string,
    cursor: SealCursor | undefined,
    window: WalkWindow,
    size: number,
    sorted = false,
  ): Promise<LedgerEntry[]> {
    const res = await this.ctx.store.search({
      index: INTERNAL.ledger,
      body: {
        size,
        query: this.walkQuery(orgId, cursor, window),
        track_total_hits: false,
        ...(!sorted
          ? { sort: ['_doc'] }
          : {
              sort: [{ acceptedAt: 'asc' }, { eventId: 'asc' }],
              ...(cursor ? { search_after: [Date.parse(cursor.acceptedAt), cursor.eventId] } : {}),
            }),
      },
      // Only the sources, whole: a batch is thousands of hits, and picking fields out of each source costs
      // OpenSearch more than sending the few it does not need; parsing hit metadata would cost us more.
      filter_path: ['hits.hits._source'],
    });
    return ((res.body as { hits?: { hits: { _source: LedgerEntry }[] } }).hits?.hits ?? []).map(
      (h) => h._source,
    );
  }

  /**
   * Each entry with its leaf when its event is in its day index with the entry's very acceptedAt, else
   * undefined. An event stored with another acceptedAt belongs to another attempt with the same id (a retry
   * re-stamped the entry while the first attempt's write was still landing): sealing it under this entry
   * could seal it twice, so it is left to the late pass, which looks at what is already sealed. Per day index,
   * one count of the (id, acceptedAt) pairs settles the usual case, all there; otherwise, and for entries
   * ingested with sealing off (no leaf in the ledger), a realtime multi-get says which.
   */
  private async readEvents(entries: LedgerEntry[]): Promise<Read[]> {
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
      const query = pairsQuery(ks.map((k) => entries[k]!));
      const res = query && (await this.ctx.store.count({ index, body: { query } }, { ignore: [404] }));
      if (res && (res.body as { count?: number }).count === ks.length) {
        for (const k of ks) out[k] = entries[k] as Sealable;
      } else toGet.push(...ks);
    }
    if (toGet.length === 0) return out;
    const docs = await this.getEvents(toGet.map((k) => entries[k]!));
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
  private async getEvents(entries: LedgerEntry[]): Promise<(Partial<StoredEvent> | undefined)[]> {
    if (entries.length === 0) return [];
    const res = await this.ctx.store.mget({
      body: {
        docs: entries.map((e) => ({
          _index: e.index,
          _id: eventDocId(e.orgId, e.eventId),
          _source: e.leaf === undefined || e.storedHash === undefined ? true : ['acceptedAt'],
        })),
      },
    });
    const docs = (
      res.body as {
        docs: { found?: boolean; _source?: StoredEvent; error?: { type: string; reason?: string } }[];
      }
    ).docs;
    return docs.map((d, k) => {
      if (d.error && d.error.type !== 'index_not_found_exception') {
        const e = entries[k]!;
        throw new Error(`reading event ${e.eventId} from ${e.index}: ${d.error.reason ?? d.error.type}`);
      }
      return d.found ? d._source : undefined;
    });
  }

  /**
   * Seals waiting entries whose event has appeared (one late seal per batch); returns the new head. The event
   * is the authority: it is hashed as stored, under its own acceptedAt. An event some seal already lists (a
   * retry re-stamped its entry after the first attempt's event was sealed, or a mark was lost) is not sealed
   * again: its entry is marked with that seal.
   */
  private async sealLate(orgId: string, head: SealHead, out: OrgResult): Promise<SealHead> {
    for (;;) {
      const res = await this.ctx.store.search({
        index: INTERNAL.ledger,
        body: {
          size: this.opts.batchCap,
          query: { bool: { filter: [{ term: { orgId } }, WAITING] } },
          sort: [{ acceptedAt: 'asc' }, { eventId: 'asc' }],
        },
      });
      const hits = (res.body as { hits: { hits: Hit[] } }).hits.hits;
      // The search view can lag the marks of the seal just made; never put an event into two seals.
      const inHead = new Set(head.late ? head.eventIds : []);
      const entries = hits.map((h) => h._source).filter((e) => !inHead.has(e.eventId));
      if (entries.length === 0) return head;
      const docs = await this.getEvents(entries.map(({ leaf: _l, storedHash: _s, ...e }) => e));
      const now = Date.now();
      const lateBefore = Date.parse(head.sealedAt) - this.opts.lateGraceMs;
      const found: { eventId: string; doc: StoredEvent }[] = [];
      entries.forEach((e, k) => {
        const accepted = Date.parse(e.acceptedAt);
        if (accepted < lateBefore) {
          this.report(
            {
              orgId,
              eventId: e.eventId,
              reason: 'accepted-before-newest-seal',
              detail: `accepted at ${e.acceptedAt}, more than ${this.opts.lateGraceMs / 1000} s before seal ${head.seq} was made (${head.sealedAt})`,
            },
            out,
          );
        } else if (docs[k]) {
          found.push({ eventId: e.eventId, doc: docs[k] as StoredEvent });
        } else if (now - accepted > this.opts.missingEventGraceMs) {
          this.report(
            {
              orgId,
              eventId: e.eventId,
              reason: 'event-missing',
              detail: `the ledger names index ${e.index}, which has no event ${e.eventId} ${Math.round((now - accepted) / 1000)} s after acceptance`,
            },
            out,
          );
        }
      });
      if (found.length === 0) return head;
      const already = await this.sealedAlready(
        orgId,
        found.map(({ eventId, doc }) => ({ eventId, acceptedAt: doc.acceptedAt })),
      );
      // Refreshed: the next search for waiting entries must not find these again (a full batch loops).
      await this.bulkUpdate(
        [...already].map(([eventId, seal]) => [eventDocId(orgId, eventId), { sealed: true, seal }]),
        already.size > 0,
        'as sealed already',
      );
      const ready = found
        .filter(({ eventId }) => !already.has(eventId))
        .map(({ eventId, doc }) => ({ eventId, acceptedAt: doc.acceptedAt, ...leafOfEvent(doc) }))
        .sort(compareKeys);
      if (ready.length > 0) {
        const seal = await this.createSeal(orgId, batchOf(ready), head, { late: true, cursor: head.cursor });
        if (!seal) return head;
        await this.markLate(seal);
        out.sealed.push({ orgId, seq: seal.seq, count: seal.count });
        head = seal;
      }
      if (hits.length < this.opts.batchCap) return head;
    }
  }

  /**
   * Which of these events some seal of the org already lists, with that seal's seq and the event's leaf. Every
   * seal spans the acceptedAt of the events it lists (walk seals by their entries' keys, which are their
   * events' acceptedAt; late seals by their events'), so the seals spanning an event's acceptedAt are looked in.
   */
  private async sealedAlready(
    orgId: string,
    events: { eventId: string; acceptedAt: string }[],
  ): Promise<Map<string, { seq: number; leaf: number }>> {
    const found = new Map<string, { seq: number; leaf: number }>();
    await this.ctx.store.indices.refresh({ index: INTERNAL.seals });
    const wanted = new Set(events.map((e) => e.eventId));
    const times = [...new Set(events.map((e) => e.acceptedAt))];
    const page = 20;
    for (let i = 0; i < times.length; i += MAX_TIME_CLAUSES) {
      const should: object[] = times.slice(i, i + MAX_TIME_CLAUSES).map((at) => ({
        bool: {
          filter: [{ range: { firstAcceptedAt: { lte: at } } }, { range: { lastAcceptedAt: { gte: at } } }],
        },
      }));
      for (let after: number | undefined; ;) {
        const res = await this.ctx.store.search({
          index: INTERNAL.seals,
          body: {
            size: page,
            query: { bool: { filter: [{ term: { orgId } }], should, minimum_should_match: 1 } },
            sort: [{ seq: 'asc' }],
            _source: ['seq', 'eventIds'],
            ...(after === undefined ? {} : { search_after: [after] }),
          },
        });
        const hits = (res.body as { hits: { hits: { _source: { seq: number; eventIds: string[] } }[] } }).hits
          .hits;
        for (const { _source: seal } of hits) {
          seal.eventIds.forEach((id, leaf) => {
            if (wanted.has(id) && !found.has(id)) found.set(id, { seq: seal.seq, leaf });
          });
        }
        if (hits.length < page) break;
        after = hits[hits.length - 1]!._source.seq;
      }
    }
    return found;
  }

  /** Creates the next seal of the org over a batch of entries in key order (their first and last set its span). */
  private async createSeal(
    orgId: string,
    batch: EntryBatch,
    head: SealHead | undefined,
    extra: Pick<SealHead, 'cursor' | 'skipped' | 'late'>,
  ): Promise<SealHead | undefined> {
    const { eventIds, acceptedAt, storedHashes, leaves } = batch;
    const iso = (at: string) => new Date(at).toISOString();
    const seq = (head?.seq ?? 0) + 1;
    const checkpoint = signCheckpoint(
      {
        orgId,
        seq,
        count: eventIds.length,
        firstAcceptedAt: iso(acceptedAt[0]!),
        lastAcceptedAt: iso(acceptedAt[acceptedAt.length - 1]!),
        root: merkleRootOf(leaves).toString('hex'),
        prevSealHash: head?.sealHash ?? null,
        sealedAt: new Date().toISOString(),
      },
      this.key,
    );
    const seal: SealHead = { ...checkpoint, eventIds, ...extra };
    try {
      await this.ctx.store.create({
        index: INTERNAL.seals,
        id: sealId(orgId, seq),
        body: packSeal({ ...seal, leaves, storedHashes }),
        // No refresh needed: newestSeal() finds a seal not yet searchable with a realtime GET of the next seq.
      });
      return seal;
    } catch (err) {
      if (statusOf(err) === 409) return undefined;
      throw err;
    }
  }

  /** Marks entries the walk passed without their event as waiting for a late seal (404: released meanwhile). */
  private async markWaiting(eventIds: string[], orgId: string, refresh = false) {
    await this.bulkUpdate(
      eventIds.map((eventId) => [eventDocId(orgId, eventId), { waiting: true }]),
      refresh,
      'as waiting',
    );
  }

  /** Marks the entries of a late seal with their seal and leaf. */
  private async markLate(seal: SealHead): Promise<void> {
    await this.bulkUpdate(
      seal.eventIds.map((eventId, leaf) => [
        eventDocId(seal.orgId, eventId),
        { sealed: true, seal: { seq: seal.seq, leaf } },
      ]),
      false,
      `as sealed in seal ${seal.seq}`,
    );
  }

  private async bulkUpdate(docs: [string, object][], refresh: boolean, what: string): Promise<void> {
    if (docs.length === 0) return;
    const res = await this.ctx.store.bulk({
      // A concurrent re-stamp by the write path replaces the entry: apply the mark to the entry as it is then.
      body: docs.flatMap(([_id, doc]) => [
        { update: { _index: INTERNAL.ledger, _id, retry_on_conflict: 5 } },
        { doc },
      ]) as never,
      refresh,
    });
    const b = res.body as {
      errors: boolean;
      items: Record<string, { _id: string; status: number; error?: { reason?: string } }>[];
    };
    const bad = b.items.map((i) => Object.values(i)[0]!).find((i) => i.error && i.status !== 404);
    if (bad) throw new Error(`marking ledger entry ${bad._id} ${what}: ${bad.error?.reason ?? bad.status}`);
  }

  /** Writes the marks the newest seal implies, when a sealer died between creating it and marking. */
  private async repairMarks(head: SealHead): Promise<void> {
    if (head.late) {
      const res = await this.ctx.store.count({
        index: INTERNAL.ledger,
        body: {
          query: { bool: { filter: [{ term: { orgId: head.orgId } }, { term: { 'seal.seq': head.seq } }] } },
        },
      });
      if ((res.body as { count: number }).count < head.count) await this.markLate(head);
    }
    if (head.skipped?.length) {
      const res = await this.ctx.store.mget({
        index: INTERNAL.ledger,
        body: { ids: head.skipped.map((id) => eventDocId(head.orgId, id)) },
        _source: ['waiting'],
      });
      const docs = (res.body as { docs: { found?: boolean; _source?: { waiting?: boolean } }[] }).docs;
      const unmarked = head.skipped.filter((_, k) => docs[k]!.found && !docs[k]!._source?.waiting);
      if (unmarked.length > 0) await this.markWaiting(unmarked, head.orgId, true);
    }
  }
}

/**
 * A batch of the walk — the unmarked entries with keys in (cursor, last entry] — all sealable, when counts
 * prove each one's event is stored with the entry's acceptedAt; undefined when they do not (then the events
 * are looked up one by one) or when some entry has no leaf. Cheap whatever the batch size:
 *  - in the ledger, in one view: the entries of the batch's span of acceptedAt, and those of them the walk
 *    would take. The latter must still be exactly the batch: an entry the write path re-stamped (or released)
 *    since the walk read it has left, and its walked copy — old acceptedAt, old leaf — must not be sealed;
 *  - in the day indices: the events of the span. An event is only ever written with its ledger entry's
 *    acceptedAt, after the entry (ingest.ts), and an entry of a span before the cutoff that was not visible
 *    to the walk is re-stamped out of it before its event is written (ledger.ts), so the span's events are a
 *    subset of its entries: equal counts mean every entry of the span, the batch included, has its event.
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
  const span = {
    bool: {
      filter: [
        { term: { orgId } },
        { range: { acceptedAt: { gte: entries[0]!.acceptedAt, lte: last.acceptedAt } } },
      ],
    },
  };
  const [ledger, events] = await Promise.all([
    store.search({
      index: INTERNAL.ledger,
      body: {
        size: 0,
        track_total_hits: true,
        query: span,
        aggs: {
          batch: { filter: unmarkedBetween(cursor, keyOf(last)) },
        },
      },
    } as never),
    store.count(
      {
        index: [...new Set(entries.map((e) => e.index))].join(','),
        body: { query: span },
        ignore_unavailable: true,
      },
      { ignore: [404] },
    ),
  ]);
  const l = ledger.body as unknown as {
    hits: { total: { value: number } };
    aggregations: { batch: { doc_count: number } };
  };
  const stored = (events.body as { count?: number }).count ?? 0;
  return l.aggregations.batch.doc_count === entries.length && l.hits.total.value === stored
    ? (entries as Sealable[])
    : undefined;
}

/**
 * Query: the events of these entries, each stored with its entry's acceptedAt; undefined when they have too
 * many distinct acceptedAt values for one query (a request's events share one).
 */
function pairsQuery(entries: LedgerEntry[]): object | undefined {
  const byTime = new Map<string, string[]>();
  for (const e of entries) {
    const ids = byTime.get(e.acceptedAt);
    if (ids) ids.push(eventDocId(e.orgId, e.eventId));
    else byTime.set(e.acceptedAt, [eventDocId(e.orgId, e.eventId)]);
  }
  if (byTime.size > MAX_TIME_CLAUSES) return undefined;
  const should = [...byTime].map(([acceptedAt, values]) => ({
    bool: { filter: [{ term: { acceptedAt } }, { ids: { values } }] },
  }));
  return { bool: { should, minimum_should_match: 1 } };
}
