/**
 * The sealer: turns each org's newly ingested events into the next seal of its chain (../checkpoint.ts), in
 * ingestion order, within a bounded delay. One instance leads at a time (../lease.ts); a seal is `create`d
 * under sealId(orgId, seq), so a second sealer racing for the same seq fails instead of forking the chain.
 *
 * A round refreshes the ledger, then per org with new entries:
 *  - from memory (memory.ts): the entries this process's write path stored itself (../written.ts), while a
 *    count shows the ledger holds nothing else in their range — one for the round's own entries, one per
 *    batch only when something else is among them; the walk below covers the rest;
 *  - the walk (walk.ts): ledger entries after the newest seal's `cursor`, in key order (acceptedAt, eventId),
 *    accepted before the round's cutoff (now − safety margin), a window at a time → a check that their events
 *    exist (two counts, else per id) → a seal of those whose event is there, carrying the leaves the write
 *    path put in the ledger and the new cursor.
 *    (Entries ingested with AUDIT_SEALING=false carry no leaf: their events are read and hashed here.)
 *    Nothing is written per event: the cursor in the seal says what is done (../ledger.ts explains why an
 *    entry can never become visible behind it). An entry passed while its event is missing (a write still
 *    in flight, or one that failed) is listed in the seal's `skipped` and marked `waiting` afterwards;
 *  - late seals (late.ts): waiting entries whose event has appeared are sealed in a seal of their own
 *    (`late`), and marked `sealed: true, seal: { seq, leaf }`.
 * A crash between creating a seal and writing its marks is repaired from the newest seal (seal.ts) before
 * anything else. Entries are held back and reported, never sealed, when their event has not appeared after
 * `missingEventGraceMs`, or when they were accepted more than `lateGraceMs` before the newest seal was made:
 * sealing such an entry would launder what a back-dated insertion looks like. `npm run verify` lists both.
 */
import crypto from 'node:crypto';
import os from 'node:os';
import { orgsWithEntries, refreshLedger } from '../../store/ledger-store.ts';
import { eventDocId } from '../../store/names.ts';
import { newestSeal } from '../../store/seal-store.ts';
import { IntegrityBroken } from '../../errors.ts';
import { sealHashOf } from '../checkpoint.ts';
import { fixedKeys, type KeySource } from '../keyring.ts';
import { extendOrgTree, signedInWindow } from '../org-tree.ts';
import { Lease } from '../lease.ts';
import type { SigningKey } from '../signing.ts';
import { sealLate } from './late.ts';
import { sealWritten } from './memory.ts';
import {
  TREE_SEALS_PER_ROUND,
  type Ctx,
  type Held,
  type OrgResult,
  type RoundResult,
  type SealerOptions,
  type Sealing,
} from './sealer-context.ts';
import { repairMarks } from './seal.ts';
import { walkUntil } from './walk.ts';

export {
  sealerOptions,
  type Held,
  type OrgResult,
  type RoundResult,
  type SealerOptions,
} from './sealer-context.ts';
export { allStored, type Sealable } from './walk.ts';

export class Sealer {
  readonly holder = `${os.hostname()}:${process.pid}:${crypto.randomBytes(4).toString('hex')}`;
  private readonly lease: Lease;
  /** What the parts of this sealer (walk, memory, late seals, marks) share. */
  private readonly sealing: Sealing;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = false;
  /** Entries already reported, so a held entry is logged once per process, not every round. */
  private readonly reported = new Set<string>();
  /** The cutoff of the last round this instance finished as leader, and the orgs it could not finish. */
  private since: string | undefined;
  private retry = new Set<string>();
  /** Orgs whose last attempt failed, with the reason last logged. */
  private readonly failing = new Map<string, string>();
  /** Orgs whose tree could not take their newest seals yet, with the reason last logged. */
  private readonly treeBehind = new Map<string, string>();
  private readonly keys: KeySource;

  constructor(
    private readonly ctx: Ctx,
    keys: KeySource | SigningKey,
    readonly opts: SealerOptions,
    private readonly log: (msg: string) => void = (m) => console.warn(m),
  ) {
    this.lease = new Lease(ctx.store, 'sealer', this.holder, opts.leaseTtlMs);
    this.keys = 'privateKey' in keys ? fixedKeys(keys) : keys;
    this.sealing = { ctx, keys: this.keys, opts, report: (h, out) => this.report(h, out), made: new Map() };
  }

  /**
   * Runs a round at once (so an instance that can lead does so from its start, and its write path hands over
   * what it stores: written.ts), then one every `periodMs` from the start of the last (at once after a round
   * that took longer: a sealer behind catches up, and its write path's memory does not fill) until stop(). A
   * failed round is logged and retried `periodMs` after it; one that fails once stop() was called is not logged.
   */
  start(): void {
    const tick = () => {
      const startedAt = Date.now();
      let wait = this.opts.periodMs;
      this.running = this.round()
        .then(() => (wait = Math.max(0, startedAt + this.opts.periodMs - Date.now())))
        .catch((err: unknown) => {
          // A round cut short by the stop (the engine may be stopping with this process) is no failure to
          // report: the next leader seals what it left.
          if (!this.stopped)
            this.log(`sealer: round failed, retrying in ${this.opts.periodMs} ms: ${String(err)}`);
        })
        .finally(() => {
          this.running = undefined;
          if (!this.stopped) this.timer = setTimeout(tick, wait).unref();
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
   * round's cutoff need not be looked for again (../ledger.ts), except in orgs that round could not finish,
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
    await refreshLedger(this.ctx.store);
    const orgs = new Set([...this.retry, ...this.treeBehind.keys(), ...(await this.pendingOrgs(this.since))]);
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

  /**
   * Seals the org's entries accepted up to `cutoff` (default: now − safety margin, after a refresh of the
   * ledger), batch after batch, then appends the new seals to the org's tree (../org-tree.ts). Usable without
   * the lease: `create` keeps it safe.
   */
  async sealOrg(orgId: string, cutoff?: string): Promise<OrgResult> {
    const out = await this.sealBatches(orgId, cutoff);
    return { ...out, treeCatchingUp: !(await this.extendTree(orgId)) };
  }

  /**
   * A tree that cannot grow now never stops sealing: it catches up from its newest head in a later round.
   * False while a long history is being appended a part per round (more is there to append at once).
   */
  private async extendTree(orgId: string): Promise<boolean> {
    try {
      const made = this.sealing.made.get(orgId);
      this.sealing.made.delete(orgId);
      const { complete } = await extendOrgTree(
        this.ctx.store,
        this.keys,
        this.opts.logOrigin,
        orgId,
        TREE_SEALS_PER_ROUND,
        made,
      );
      // A long history (an org sealed before trees existed) is taken a part per round, so sealing flows on.
      if (!complete) this.treeBehind.set(orgId, 'catching up');
      else if (this.treeBehind.delete(orgId)) this.log(`sealer: the tree of org ${orgId} has caught up`);
      return complete;
    } catch (err) {
      const why = String(err);
      if (this.treeBehind.get(orgId) !== why)
        this.log(`sealer: the tree of org ${orgId} stops at its newest head, retrying every round: ${why}`);
      this.treeBehind.set(orgId, why);
      return true;
    }
  }

  private async sealBatches(orgId: string, cutoff?: string): Promise<OrgResult> {
    if (cutoff === undefined) {
      cutoff = new Date(Date.now() - this.opts.safetyMarginMs).toISOString();
      await refreshLedger(this.ctx.store);
    }
    const out: OrgResult = { sealed: [], held: [], leftBehind: false, walked: 0 };
    let head = await newestSeal(this.ctx.store, orgId);
    if (head) {
      if (sealHashOf(head) !== head.sealHash || !signedInWindow(head, this.keys)) {
        // Never extend a chain whose head no key of the log signed as it is, in its window: that would bless a rewrite.
        throw new IntegrityBroken(
          `the newest seal ${head.seq} does not verify under the log's keys (signed by ${head.keyId}); run npm run verify -- --org ${orgId}`,
        );
      }
      await repairMarks(this.sealing, head);
      head = await sealLate(this.sealing, orgId, head, out);
    }
    // What this process wrote itself is sealed from memory; the ledger is walked up to the next such entry
    // (entries of other instances, or re-stamped ones), then memory again, and so on up to the cutoff.
    for (;;) {
      const mine = await sealWritten(this.sealing, orgId, head, cutoff, out);
      if (mine.lost) return out;
      const walked = await walkUntil(this.sealing, orgId, mine.head, mine.blockedAt ?? cutoff, out);
      if (walked.stop || mine.blockedAt === undefined) return out;
      if (walked.head === mine.head) return out; // nothing walked: left for the next round
      head = walked.head;
    }
  }

  private report(h: Held, out: Omit<RoundResult, 'leader'>): void {
    out.held.push(h);
    const key = `${eventDocId(h.orgId, h.eventId)} ${h.reason}`;
    if (this.reported.has(key)) return;
    if (this.reported.size > 10_000) this.reported.clear();
    this.reported.add(key);
    this.log(`sealer: org ${h.orgId} event ${h.eventId} not sealed (${h.reason}): ${h.detail}`);
  }

  /** Orgs with entries accepted after `since` (all orgs with entries when undefined), or waiting ones. */
  async pendingOrgs(since?: string): Promise<string[]> {
    return orgsWithEntries(this.ctx.store, since);
  }
}
