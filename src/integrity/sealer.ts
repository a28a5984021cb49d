/**
 * The sealer: turns each org's newly ingested events into the next seal of its chain (checkpoint.ts), in
 * ingestion order, within a bounded delay. One instance leads at a time (lease.ts); a seal is `create`d under
 * `<orgId>:<seq>`, so a second sealer racing for the same seq fails instead of forking the chain.
 *
 * Per org and batch: ledger entries not yet sealed, oldest `acceptedAt` first (ties by event id), older than
 * a safety margin (writes still in flight are left for the next round) → their events (realtime multi-get) →
 * leaves and root → seal created → ledger entries marked `sealed: true, seal: { seq, leaf }`. A crash between
 * the last two steps is repaired before the next batch: the newest seal's entries are re-marked when fewer
 * than its count carry its seq.
 *
 * Entries are held back and reported, never sealed, when their event has not appeared after
 * `missingEventGraceMs` (a write that failed without releasing its ledger entry), or when they were accepted
 * more than `lateGraceMs` before the newest seal was made: such an entry cannot be an ordinary late write;
 * it is what a back-dated insertion looks like, and sealing it would launder it. `npm run verify` lists both.
 */
import crypto from 'node:crypto';
import os from 'node:os';
import type { AppContext } from '../app.ts';
import { toEntry, type StoredEvent } from '../events/schema.ts';
import { statusOf } from '../store/client.ts';
import { eventDocId, INTERNAL } from '../store/names.ts';
import { checkpointSignatureValid, sealHashOf, sealId, signCheckpoint, type Seal } from './checkpoint.ts';
import { leafOfEvent } from './leaf.ts';
import { Lease } from './lease.ts';
import { merkleRoot } from './merkle.ts';
import { newestSeal, type LedgerDoc } from './seals.ts';
import type { SigningKey } from './signing.ts';

export interface SealerOptions {
  /** Most events in one seal (a seal document holds three lists of this length). */
  batchCap: number;
  /** Entries younger than this are left for the next round, so writes in flight are not raced. */
  safetyMarginMs: number;
  /** How often a round runs. */
  periodMs: number;
  /** A ledger entry whose event is still missing after this long is reported. */
  missingEventGraceMs: number;
  /** An unsealed entry accepted this long before the newest seal was made is reported, not sealed. */
  lateGraceMs: number;
  leaseTtlMs: number;
  /**
   * How seal and mark writes become visible to the next batch's search: 'wait_for' (default) rides the
   * normal refresh and costs only latency; true forces a refresh (faster rounds, more small segments).
   */
  refresh: 'wait_for' | true;
}

/** Defaults derived from AUDIT_SEAL_INTERVAL_SECONDS: an event waits about one interval before it is sealed. */
export function sealerOptions(sealIntervalMs: number, overrides: Partial<SealerOptions> = {}): SealerOptions {
  const safetyMarginMs = Math.min(2000, Math.floor(sealIntervalMs / 2));
  return {
    batchCap: 10_000,
    safetyMarginMs,
    periodMs: Math.max(250, sealIntervalMs - safetyMarginMs),
    missingEventGraceMs: 5 * 60_000,
    lateGraceMs: 10 * 60_000,
    leaseTtlMs: Math.max(3 * sealIntervalMs, 5000),
    refresh: 'wait_for',
    ...overrides,
  };
}

export interface Held {
  orgId: string;
  eventId: string;
  reason: 'event-missing' | 'accepted-before-newest-seal' | 'event-mismatch';
  detail: string;
}

export interface RoundResult {
  leader: boolean;
  sealed: { orgId: string; seq: number; count: number }[];
  held: Held[];
}

type Ctx = Pick<AppContext, 'store'>;

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

  /** Runs a round every `periodMs` until stop(). A failed round is logged and retried at the next tick. */
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
    this.timer = setTimeout(tick, this.opts.periodMs).unref();
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
  }

  /** One round: if this instance leads, seals every org with unsealed entries. */
  async round(now = Date.now()): Promise<RoundResult> {
    const result: RoundResult = { leader: false, sealed: [], held: [] };
    if (!(await this.lease.acquire(now))) return result;
    result.leader = true;
    for (const orgId of await this.pendingOrgs()) {
      if (this.stopped) break;
      try {
        const r = await this.sealOrg(orgId);
        result.sealed.push(...r.sealed);
        result.held.push(...r.held);
      } catch (err) {
        this.log(`sealer: org ${orgId} not sealed this round: ${String(err)}`);
      }
      // Keep the lease alive through long rounds; if it was lost, the new leader carries on.
      if (!(await this.lease.acquire())) break;
    }
    return result;
  }

  /** Seals the org's pending entries, batch after batch. Usable without the lease: `create` keeps it safe. */
  async sealOrg(orgId: string): Promise<Omit<RoundResult, 'leader'>> {
    const out: Omit<RoundResult, 'leader'> = { sealed: [], held: [] };
    let head = await newestSeal(this.ctx.store, orgId);
    if (head) {
      if (sealHashOf(head) !== head.sealHash || !checkpointSignatureValid(head, this.key)) {
        // Never extend a chain whose head this key did not sign as it is: that would bless a rewrite.
        throw new Error(
          `the newest seal ${head.seq} does not verify under key ${this.key.keyId}; run npm run verify -- --org ${orgId}`,
        );
      }
      await this.repairMarks(head);
    }
    for (;;) {
      const entries = await this.pendingEntries(orgId, head);
      if (entries.length === 0) return out;
      const { ready, held } = await this.readEvents(orgId, entries, head);
      for (const h of held) this.report(h, out);
      if (ready.length > 0) {
        const seal = await this.createSeal(orgId, ready, head);
        if (!seal) return out; // another sealer took this seq; it will carry on
        await this.markSealed(
          seal,
          ready.map(({ entry }) => entry),
        );
        out.sealed.push({ orgId, seq: seal.seq, count: seal.count });
        head = seal;
      }
      if (entries.length < this.opts.batchCap || ready.length === 0) return out;
    }
  }

  private report(h: Held, out: Omit<RoundResult, 'leader'>): void {
    out.held.push(h);
    const key = `${h.orgId}:${h.eventId}:${h.reason}`;
    if (this.reported.has(key)) return;
    if (this.reported.size > 10_000) this.reported.clear();
    this.reported.add(key);
    this.log(`sealer: org ${h.orgId} event ${h.eventId} not sealed (${h.reason}): ${h.detail}`);
  }

  /** Orgs with ledger entries not sealed yet. */
  async pendingOrgs(): Promise<string[]> {
    const orgs: string[] = [];
    let after: Record<string, string> | undefined;
    for (;;) {
      const res = await this.ctx.store.search({
        index: INTERNAL.ledger,
        body: {
          size: 0,
          query: { bool: { must_not: [{ term: { sealed: true } }] } },
          aggs: {
            orgs: {
              composite: {
                size: 1000,
                sources: [{ orgId: { terms: { field: 'orgId' } } }],
                ...(after ? { after } : {}),
              },
            },
          },
        },
      });
      const agg = (
        res.body as unknown as {
          aggregations: {
            orgs: { buckets: { key: { orgId: string } }[]; after_key?: Record<string, string> };
          };
        }
      ).aggregations.orgs;
      orgs.push(...agg.buckets.map((b) => b.key.orgId));
      if (!agg.after_key || agg.buckets.length === 0) return orgs;
      after = agg.after_key;
    }
  }

  private async pendingEntries(orgId: string, head: Seal | undefined): Promise<LedgerDoc[]> {
    const cutoff = new Date(Date.now() - this.opts.safetyMarginMs).toISOString();
    const res = await this.ctx.store.search({
      index: INTERNAL.ledger,
      body: {
        size: this.opts.batchCap,
        query: {
          bool: {
            filter: [{ term: { orgId } }, { range: { acceptedAt: { lte: cutoff } } }],
            must_not: [{ term: { sealed: true } }],
          },
        },
        sort: [{ acceptedAt: 'asc' }, { eventId: 'asc' }],
      },
    });
    const docs = (res.body as { hits: { hits: { _source: LedgerDoc }[] } }).hits.hits.map((h) => h._source);
    // The search view can lag the marks of the seal just made; never put an event into two seals.
    const inHead = new Set(head?.eventIds ?? []);
    return docs.filter((d) => !inHead.has(d.eventId));
  }

  private async readEvents(
    orgId: string,
    entries: LedgerDoc[],
    head: Seal | undefined,
  ): Promise<{ ready: { entry: LedgerDoc; event: StoredEvent }[]; held: Held[] }> {
    const res = await this.ctx.store.mget({
      body: { docs: entries.map((e) => ({ _index: e.index, _id: eventDocId(e.orgId, e.eventId) })) },
    });
    const docs = (
      res.body as {
        docs: { found?: boolean; _source?: StoredEvent; error?: { type: string; reason?: string } }[];
      }
    ).docs;
    const ready: { entry: LedgerDoc; event: StoredEvent }[] = [];
    const held: Held[] = [];
    const now = Date.now();
    const lateBefore = head ? Date.parse(head.sealedAt) - this.opts.lateGraceMs : -Infinity;
    entries.forEach((entry, k) => {
      const d = docs[k]!;
      if (d.error && d.error.type !== 'index_not_found_exception') {
        throw new Error(
          `reading event ${entry.eventId} from ${entry.index}: ${d.error.reason ?? d.error.type}`,
        );
      }
      const accepted = Date.parse(entry.acceptedAt);
      if (accepted < lateBefore) {
        held.push({
          orgId,
          eventId: entry.eventId,
          reason: 'accepted-before-newest-seal',
          detail: `accepted at ${entry.acceptedAt}, more than ${this.opts.lateGraceMs / 1000} s before seal ${head!.seq} was made (${head!.sealedAt})`,
        });
        return;
      }
      if (!d.found || !d._source) {
        if (now - accepted > this.opts.missingEventGraceMs) {
          held.push({
            orgId,
            eventId: entry.eventId,
            reason: 'event-missing',
            detail: `the ledger names index ${entry.index}, which has no event ${entry.eventId} ${Math.round((now - accepted) / 1000)} s after acceptance`,
          });
        }
        return; // still in flight: next round
      }
      const ev = d._source;
      if (ev.orgId !== orgId || ev.id !== entry.eventId) {
        held.push({
          orgId,
          eventId: entry.eventId,
          reason: 'event-mismatch',
          detail: `the document ${entry.index}/${entry.eventId} belongs to org ${ev.orgId}, id ${ev.id}`,
        });
        return;
      }
      ready.push({ entry, event: ev });
    });
    return { ready, held };
  }

  private async createSeal(
    orgId: string,
    ready: { entry: LedgerDoc; event: StoredEvent }[],
    head: Seal | undefined,
  ): Promise<Seal | undefined> {
    const leaves: string[] = [];
    const storedHashes: string[] = [];
    for (const { event } of ready) {
      const { leaf, storedHash } = leafOfEvent(event);
      leaves.push(leaf);
      storedHashes.push(storedHash);
    }
    const accepted = ready.map(({ event }) => new Date(event.acceptedAt).toISOString()).sort();
    const seq = (head?.seq ?? 0) + 1;
    const checkpoint = signCheckpoint(
      {
        orgId,
        seq,
        count: ready.length,
        firstAcceptedAt: accepted[0]!,
        lastAcceptedAt: accepted[accepted.length - 1]!,
        root: merkleRoot(leaves),
        prevSealHash: head?.sealHash ?? null,
        sealedAt: new Date().toISOString(),
      },
      this.key,
    );
    const seal: Seal = {
      ...checkpoint,
      eventIds: ready.map(({ event }) => toEntry(event).id),
      leaves,
      storedHashes,
    };
    try {
      await this.ctx.store.create({
        index: INTERNAL.seals,
        id: sealId(orgId, seq),
        body: seal,
        // No refresh needed: newestSeal() finds a seal not yet searchable with a realtime GET of the next seq.
      });
      return seal;
    } catch (err) {
      if (statusOf(err) === 409) return undefined;
      throw err;
    }
  }

  /**
   * Marks the seal's ledger entries, visible to search before returning so the next batch cannot re-take
   * them. With the entries at hand (the normal path) each is re-indexed whole, which is cheaper for
   * OpenSearch than a partial update (no read-merge); the repair path has only ids and updates.
   */
  private async markSealed(seal: Seal, entries?: LedgerDoc[]): Promise<void> {
    const body: object[] = seal.eventIds.flatMap((eventId, leaf): object[] => {
      const _id = eventDocId(seal.orgId, eventId);
      const mark = { sealed: true, seal: { seq: seal.seq, leaf } };
      return entries
        ? [{ index: { _index: INTERNAL.ledger, _id } }, { ...entries[leaf]!, ...mark }]
        : [{ update: { _index: INTERNAL.ledger, _id } }, { doc: mark }];
    });
    const res = await this.ctx.store.bulk({ body: body as never, refresh: this.opts.refresh });
    const b = res.body as {
      errors: boolean;
      items: Record<string, { _id: string; status: number; error?: { reason?: string } }>[];
    };
    if (b.errors) {
      const bad = b.items.map((i) => Object.values(i)[0]!).find((i) => i.error)!;
      throw new Error(
        `marking ledger entry ${bad._id} as sealed in seal ${seal.seq}: ${bad.error?.reason ?? bad.status}`,
      );
    }
  }

  /** Re-marks the newest seal's entries when a sealer died between creating it and marking them. */
  private async repairMarks(head: Seal): Promise<void> {
    const res = await this.ctx.store.count({
      index: INTERNAL.ledger,
      body: {
        query: { bool: { filter: [{ term: { orgId: head.orgId } }, { term: { 'seal.seq': head.seq } }] } },
      },
    });
    if ((res.body as { count: number }).count < head.count) await this.markSealed(head);
  }
}
