/**
 * Verification of one org's tamper evidence, from what is in OpenSearch now (`npm run verify`):
 *  1. the chain: every seal present once, hashed, linked and signed by a key of the log in its window (chain.ts),
 *     and consistent with a checkpoint saved earlier outside the database;
 *  2. every sealed event: its ledger entry exists and agrees (a late seal's entries carry its seq and leaf,
 *     others no mark), the event exists where the ledger says, and recomputing its leaf gives the sealed leaf
 *     (else: what changed, as far as can be told); no event is in two seals;
 *  3. the ledger: every entry is in a seal, or legitimately pending — after the sealer's cursor, or waiting
 *     for its event, and not older than the newest seal by more than the late grace; one older than the late
 *     grace (from now) only while its event is stored. An entry behind the cursor that no seal lists was
 *     dropped from the chain or inserted afterwards; an old one whose event is missing is held for good;
 *  4. the day indices: every event of the org has a ledger entry and sits in the index the ledger names;
 *  5. the org tree: every tree head is the tree of the seals' leaves up to it, signed (verify-tree.ts).
 * `since`/`until` narrow steps 2–4 to events accepted in that window; the chain is always checked whole.
 * Memory: 8 bytes per sealed event checked (a set of id hashes for steps 2–3).
 */
import { DEFAULT_LOG_ORIGIN } from '../config.ts';
import type { StoredEvent } from '../events/schema.ts';
import type { Store } from '../store/client.ts';
import {
  countEvents,
  dayExists,
  getEvents,
  refreshIntegrity,
  scanOrgEvents,
} from '../store/event-lookups.ts';
import { countEntries, getEntries, scanEntries } from '../store/ledger-store.ts';
import type { AcceptedWindow } from '../store/scan.ts';
import { pastRetention, type RetentionRule } from '../days.ts';
import { checkChain, type Problem } from './chain.ts';
import { checkpointOf, type Checkpoint } from './checkpoint.ts';
import { iterateSeals } from './seals.ts';
import { atOrBefore, type LedgerDoc, type SealCursor } from './ledger.ts';
import { singleKeyRing, type Keyring } from './keyring.ts';
import type { PublicKeyInfo } from './signing.ts';
import { checkSealedEvents, IdHashes, reportSealedTwice } from './verify-sealed.ts';
import { checkTree, type Witnessed } from './verify-tree.ts';

export interface VerifyOptions {
  orgId: string;
  /** The log's keys with their windows (npm run keys); or `publicKey`, one key valid at all times. */
  keys?: Keyring;
  publicKey?: PublicKeyInfo;
  since?: Date;
  until?: Date;
  checkpoint?: Checkpoint;
  /** Same meaning as the sealer's option: older unsealed entries are findings, younger ones pending. */
  lateGraceMs: number;
  /**
   * The retention in effect (lifecycle/retention-setting.ts): a sealed event of a day past it, or of a day
   * retention has deleted, whose day is gone, was deleted by design, not by someone.
   */
  retention?: RetentionRule;
  /** Checkpoints witnesses cosigned for the org (witnessed.ts): the tree must pass through each. */
  witnessed?: Witnessed[];
  /** AUDIT_LOG_ORIGIN, which names the org's log in its checkpoints. */
  logOrigin?: string;
  /** The time retention is counted from (tests move it); default now. */
  now?: Date;
  progress?: { setTotal(n: number): void; tick(n?: number): void };
}

export interface VerifyReport {
  orgId: string;
  /** The newest of the keys checked against. */
  keyId: string;
  /** Every key checked against, oldest first. */
  keyIds: string[];
  clean: boolean;
  seals: { count: number; firstSeq?: number; lastSeq?: number; checked: number };
  /** Tree heads checked against the seals. */
  treeHeads: number;
  events: {
    sealedChecked: number;
    scanned: number;
    pending: number;
    /** Sealed events whose day is past retention and was deleted (their seals still verify). */
    expired: number;
    oldestPendingAcceptedAt?: string;
  };
  /** The newest seal's checkpoint: what to keep (e.g. with --save-checkpoint) to pin today's history. */
  head?: Checkpoint;
  problems: Problem[];
}

/** Events checked against the ledger per multi-get. */
const CHUNK = 1000;

export async function verifyOrg(store: Store, opts: VerifyOptions): Promise<VerifyReport> {
  const { orgId } = opts;
  await refreshIntegrity(store);

  const chain: Checkpoint[] = [];
  // The sealer's bookkeeping (unsigned): how far its walk got, and entries it passed without their event.
  let cursor: SealCursor | undefined;
  const skipped = new Set<string>();
  for await (const s of iterateSeals(store, orgId)) {
    chain.push(checkpointOf(s));
    if (s.cursor) cursor = s.cursor;
    for (const id of s.skipped ?? []) skipped.add(id);
  }
  const ring = opts.keys ?? singleKeyRing(opts.publicKey!);
  const problems = checkChain(orgId, chain, ring, opts.checkpoint);
  const head = chain[chain.length - 1];
  const report: VerifyReport = {
    orgId,
    keyId: ring.keys[ring.keys.length - 1]!.keyId,
    keyIds: ring.keys.map((k) => k.keyId),
    clean: false,
    seals: { count: chain.length, firstSeq: chain[0]?.seq, lastSeq: head?.seq, checked: 0 },
    treeHeads: 0,
    events: { sealedChecked: 0, scanned: 0, pending: 0, expired: 0 },
    ...(head ? { head } : {}),
    problems,
  };

  const inWindow = (s: Checkpoint) =>
    (!opts.since || Date.parse(s.lastAcceptedAt) >= opts.since.getTime()) &&
    (!opts.until || Date.parse(s.firstAcceptedAt) <= opts.until.getTime());
  const window: AcceptedWindow = { since: opts.since, until: opts.until };
  const eventTotal = await countEvents(store, orgId, window);
  const ledgerTotal = await countEntries(store, orgId, window);
  opts.progress?.setTotal(chain.filter(inWindow).reduce((n, s) => n + s.count, 0) + ledgerTotal + eventTotal);

  const now = opts.now ?? new Date();
  // Gone by retention: its day is past the retention (or one retention deleted) and its day name no longer
  // exists (a day deleted, or its alias removed from its month). A younger day, or a day still there, is a
  // finding.
  const gone = new Map<string, Promise<boolean>>();
  const expired = async (createdAt: string, index: string) => {
    if (!opts.retention || !pastRetention(opts.retention, new Date(createdAt), now)) return false;
    if (!gone.has(index))
      gone.set(
        index,
        dayExists(store, index).then((exists) => !exists),
      );
    return gone.get(index)!;
  };
  const sealed = new IdHashes();
  for await (const seal of iterateSeals(store, orgId, { withLists: true, pageSize: 20 })) {
    if (!inWindow(seal)) continue;
    report.events.expired += await checkSealedEvents(store, seal, problems, expired);
    for (const id of seal.eventIds) sealed.add(id);
    report.seals.checked += 1;
    report.events.sealedChecked += seal.eventIds.length;
    opts.progress?.tick(seal.eventIds.length);
  }
  sealed.seal();
  await reportSealedTwice(store, orgId, sealed, inWindow, problems);
  await checkLedger(store, opts, { head, cursor, skipped, sealed }, window, report, now, expired);
  await checkEvents(store, orgId, window, report, opts.progress);
  report.treeHeads = await checkTree(
    store,
    orgId,
    ring,
    opts.logOrigin ?? DEFAULT_LOG_ORIGIN,
    problems,
    opts.witnessed,
  );
  report.clean = problems.length === 0;
  return report;
}

/** Step 3. `expired`: whether an event is gone by retention (its createdAt and day index). */
async function checkLedger(
  store: Store,
  opts: VerifyOptions,
  chain: { head?: Checkpoint; cursor?: SealCursor; skipped: Set<string>; sealed: IdHashes },
  window: AcceptedWindow,
  report: VerifyReport,
  now: Date,
  expired: (createdAt: string, index: string) => Promise<boolean>,
): Promise<void> {
  const { orgId } = opts;
  // Pending entries older than the late grace are pending only while their event is stored (the sealer is
  // behind, or off); one whose event is missing is held back by the sealer for good.
  const heldBefore = now.getTime() - opts.lateGraceMs;
  let old: LedgerDoc[] = [];
  const pending = (entry: LedgerDoc) => {
    report.events.pending += 1;
    report.events.oldestPendingAcceptedAt ??= entry.acceptedAt;
  };
  const checkOld = async () => {
    const events = await getEvents(
      store,
      old.map((e) => ({ index: e.index, orgId, eventId: e.eventId, fields: ['acceptedAt'] })),
    );
    for (const [k, entry] of old.entries()) {
      if (events[k] || (await expired(entry.createdAt, entry.index))) {
        pending(entry);
        continue;
      }
      report.problems.push({
        kind: 'unsealed-held',
        orgId,
        eventId: entry.eventId,
        message:
          `event ${entry.eventId} was accepted at ${entry.acceptedAt} and is in no seal ${Math.round((now.getTime() - Date.parse(entry.acceptedAt)) / 60_000)} min later: ` +
          `its event is missing from ${entry.index}, so the sealer holds the entry back (a write that failed and ` +
          'was never retried, or an event deleted before it was sealed)',
      });
    }
    old = [];
  };
  const { head, cursor, skipped, sealed } = chain;
  const lateBefore = head ? Date.parse(head.sealedAt) - opts.lateGraceMs : -Infinity;
  const problem = (entry: LedgerDoc, why: string) =>
    report.problems.push({
      kind: 'unsealed-late',
      orgId,
      eventId: entry.eventId,
      message: `event ${entry.eventId} (index ${entry.index}) claims acceptance at ${entry.acceptedAt} but is in no seal, ${why}`,
    });
  for await (const entry of scanEntries(store, orgId, window)) {
    opts.progress?.tick();
    if (sealed.has(entry.eventId)) continue;
    if (entry.seal && entry.seal.seq > (head?.seq ?? 0)) {
      // Sealed late by a seal made after the chain was read above: pending as far as this run knows.
      report.events.pending += 1;
    } else if (entry.seal) {
      report.problems.push({
        kind: 'ledger-mismatch',
        orgId,
        seq: entry.seal.seq,
        eventId: entry.eventId,
        message: `the ledger entry of event ${entry.eventId} claims seal ${entry.seal.seq} leaf ${entry.seal.leaf}, which does not list it`,
      });
    } else if (!entry.waiting && !skipped.has(entry.eventId) && atOrBefore(entry, cursor)) {
      problem(
        entry,
        `though the events accepted after it are sealed (a seal was dropped, or it was inserted or back-dated)`,
      );
    } else if (Date.parse(entry.acceptedAt) < lateBefore) {
      problem(entry, `though seal ${head!.seq} was made at ${head!.sealedAt} (inserted or back-dated)`);
    } else if (Date.parse(entry.acceptedAt) < heldBefore) {
      old.push(entry);
      if (old.length >= CHUNK) await checkOld();
    } else {
      // Entries come in acceptedAt order: the old ones before this are counted first.
      if (old.length > 0) await checkOld();
      pending(entry);
    }
  }
  if (old.length > 0) await checkOld();
}

/** Step 4: every event document of the org has a ledger entry naming its index. */
async function checkEvents(
  store: Store,
  orgId: string,
  window: AcceptedWindow,
  report: VerifyReport,
  progress: VerifyOptions['progress'],
): Promise<void> {
  let page: { index: string; doc: StoredEvent }[] = [];
  const flush = async () => {
    const ledger = await getEntries(
      store,
      orgId,
      page.map(({ doc }) => doc.id),
    );
    page.forEach(({ index, doc }, k) => {
      const entry = ledger[k];
      if (!entry) {
        report.problems.push({
          kind: 'event-not-in-ledger',
          orgId,
          eventId: doc.id,
          message: `event ${doc.id} in ${index} (createdAt ${doc.createdAt}) has no ledger entry: it was inserted outside the service`,
        });
      } else if (entry.index !== index) {
        report.problems.push({
          kind: 'event-misplaced',
          orgId,
          eventId: doc.id,
          message: `a copy of event ${doc.id} sits in ${index}; the ledger places it in ${entry.index} (inserted or back-dated copy)`,
        });
      }
    });
    report.events.scanned += page.length;
    progress?.tick(page.length);
    page = [];
  };
  for await (const hit of scanOrgEvents(store, orgId, window)) {
    page.push(hit);
    if (page.length >= CHUNK) await flush();
  }
  if (page.length > 0) await flush();
}
