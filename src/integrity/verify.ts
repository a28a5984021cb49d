/**
 * Verification of one org's tamper evidence, from what is in OpenSearch now (`npm run verify`):
 *  1. the chain: every seal present once, hashed, linked and signed by the published key (chain.ts),
 *     and consistent with a checkpoint saved earlier outside the database;
 *  2. every sealed event: its ledger entry exists and agrees (a late seal's entries carry its seq and leaf,
 *     others no mark), the event exists where the ledger says, and recomputing its leaf gives the sealed leaf
 *     (else: what changed, as far as can be told); no event is in two seals;
 *  3. the ledger: every entry is in a seal, or legitimately pending — after the sealer's cursor, or waiting
 *     for its event, and not older than the newest seal by more than the late grace. An entry behind the
 *     cursor that no seal lists was dropped from the chain or inserted afterwards;
 *  4. the day indices: every event of the org has a ledger entry and sits in the index the ledger names.
 * `since`/`until` narrow steps 2–4 to events accepted in that window; the chain is always checked whole.
 * Memory: 8 bytes per sealed event checked (a set of id hashes for steps 2–3).
 */
import type { StoredEvent } from '../events/schema.ts';
import { toEntry } from '../events/schema.ts';
import type { Store } from '../store/client.ts';
import { AUDIT_INDEX_PATTERN, eventDocId, INTERNAL } from '../store/names.ts';
import { checkChain, short, type Problem } from './chain.ts';
import { checkpointOf, type Checkpoint, type Seal } from './checkpoint.ts';
import { leafHashOf, storedHashOf } from './leaf.ts';
import { merkleRoot } from './merkle.ts';
import { iterateSeals } from './seals.ts';
import { atOrBefore, type LedgerDoc, type SealCursor } from './ledger.ts';
import type { PublicKeyInfo } from './signing.ts';

export interface VerifyOptions {
  orgId: string;
  publicKey: PublicKeyInfo;
  since?: Date;
  until?: Date;
  checkpoint?: Checkpoint;
  /** Same meaning as the sealer's option: older unsealed entries are findings, younger ones pending. */
  lateGraceMs: number;
  progress?: { setTotal(n: number): void; tick(n?: number): void };
}

export interface VerifyReport {
  orgId: string;
  keyId: string;
  clean: boolean;
  seals: { count: number; firstSeq?: number; lastSeq?: number; checked: number };
  events: { sealedChecked: number; scanned: number; pending: number; oldestPendingAcceptedAt?: string };
  /** The newest seal's checkpoint: what to keep (e.g. with --save-checkpoint) to pin today's history. */
  head?: Checkpoint;
  problems: Problem[];
}

const CHUNK = 1000;

export async function verifyOrg(store: Store, opts: VerifyOptions): Promise<VerifyReport> {
  const { orgId } = opts;
  await store.indices.refresh({
    index: [INTERNAL.seals, INTERNAL.ledger, AUDIT_INDEX_PATTERN].join(','),
    ignore_unavailable: true,
  });

  const chain: Checkpoint[] = [];
  // The sealer's bookkeeping (unsigned): how far its walk got, and entries it passed without their event.
  let cursor: SealCursor | undefined;
  const skipped = new Set<string>();
  for await (const s of iterateSeals(store, orgId)) {
    chain.push(checkpointOf(s));
    if (s.cursor) cursor = s.cursor;
    for (const id of s.skipped ?? []) skipped.add(id);
  }
  const problems = checkChain(orgId, chain, opts.publicKey, opts.checkpoint);
  const head = chain[chain.length - 1];
  const report: VerifyReport = {
    orgId,
    keyId: opts.publicKey.keyId,
    clean: false,
    seals: { count: chain.length, firstSeq: chain[0]?.seq, lastSeq: head?.seq, checked: 0 },
    events: { sealedChecked: 0, scanned: 0, pending: 0 },
    ...(head ? { head } : {}),
    problems,
  };

  const inWindow = (s: Checkpoint) =>
    (!opts.since || Date.parse(s.lastAcceptedAt) >= opts.since.getTime()) &&
    (!opts.until || Date.parse(s.firstAcceptedAt) <= opts.until.getTime());
  const acceptedRange = {
    range: {
      acceptedAt: {
        ...(opts.since ? { gte: opts.since.toISOString() } : {}),
        ...(opts.until ? { lte: opts.until.toISOString() } : {}),
      },
    },
  };
  const eventFilter = [{ term: { orgId } }, ...(opts.since || opts.until ? [acceptedRange] : [])];
  const eventTotal = (
    await store.count({ index: AUDIT_INDEX_PATTERN, body: { query: { bool: { filter: eventFilter } } } })
  ).body as { count: number };
  const ledgerTotal = (
    await store.count({ index: INTERNAL.ledger, body: { query: { bool: { filter: eventFilter } } } })
  ).body as { count: number };
  opts.progress?.setTotal(
    chain.filter(inWindow).reduce((n, s) => n + s.count, 0) + ledgerTotal.count + eventTotal.count,
  );

  const sealed = new IdHashes();
  for await (const seal of iterateSeals(store, orgId, { withLists: true, pageSize: 20 })) {
    if (!inWindow(seal)) continue;
    await checkSealedEvents(store, seal, problems);
    for (const id of seal.eventIds) sealed.add(id);
    report.seals.checked += 1;
    report.events.sealedChecked += seal.eventIds.length;
    opts.progress?.tick(seal.eventIds.length);
  }
  sealed.seal();
  await reportSealedTwice(store, orgId, sealed, inWindow, problems);
  await checkLedger(store, opts, { head, cursor, skipped, sealed }, eventFilter.slice(1), report);
  await scanEvents(store, orgId, eventFilter, report, opts.progress);
  report.clean = problems.length === 0;
  return report;
}

/** Step 2 for one seal. */
async function checkSealedEvents(store: Store, seal: Seal, problems: Problem[]): Promise<void> {
  const { orgId, seq } = seal;
  const add = (p: Omit<Problem, 'orgId' | 'seq'>) => problems.push({ orgId, seq, ...p });
  const n = seal.count;
  const rootOfLeaves = () => {
    try {
      return merkleRoot(seal.leaves);
    } catch {
      return undefined; // a leaf that is not 32 bytes: edited
    }
  };
  if (
    seal.eventIds.length !== n ||
    seal.leaves.length !== n ||
    seal.storedHashes.length !== n ||
    rootOfLeaves() !== seal.root
  ) {
    add({
      kind: 'seal-lists-edited',
      message: `seal ${seq}: its lists of events and leaves do not hash to its root (edited)`,
    });
  }
  for (let from = 0; from < seal.eventIds.length; from += CHUNK) {
    const ids = seal.eventIds.slice(from, from + CHUNK);
    const ledger = await mgetSources<LedgerDoc>(
      store,
      ids.map((id) => ({ _index: INTERNAL.ledger, _id: eventDocId(orgId, id) })),
    );
    const where = await Promise.all(
      ids.map(async (id, k) => ledger[k]?.index ?? (await findEventIndex(store, orgId, id))),
    );
    // An event found nowhere (no ledger entry, no index holds it) is simply absent.
    const located = ids.flatMap((id, k) =>
      where[k] ? [{ k, _index: where[k]!, _id: eventDocId(orgId, id) }] : [],
    );
    const found = await mgetSources<StoredEvent>(
      store,
      located.map(({ _index, _id }) => ({ _index, _id })),
    );
    const events: (StoredEvent | undefined)[] = ids.map(() => undefined);
    located.forEach(({ k }, j) => (events[k] = found[j]));
    ids.forEach((eventId, k) => {
      const leafIndex = from + k;
      const at = `seal ${seq} leaf ${leafIndex}`;
      const entry = ledger[k];
      if (!entry) {
        add({
          kind: 'ledger-missing',
          eventId,
          message: `event ${eventId} (${at}): its ledger entry is missing (deleted)`,
        });
      } else if (
        // A mark must name this seal and leaf; no mark is right for a walk seal, never for a late one.
        entry.seal ? entry.seal.seq !== seq || entry.seal.leaf !== leafIndex : seal.late === true
      ) {
        add({
          kind: 'ledger-mismatch',
          eventId,
          message:
            `event ${eventId} is listed in ${at}, but its ledger entry says ` +
            (entry.seal ? `seal ${entry.seal.seq} leaf ${entry.seal.leaf}` : 'it is in no late seal') +
            ' (sealed twice, or the ledger or seal was edited)',
        });
      }
      const ev = events[k];
      if (!ev) {
        add({
          kind: 'event-missing',
          eventId,
          message:
            `event ${eventId} (${at}) is missing` +
            (where[k] ? ` from ${where[k]} (deleted)` : ' from every day index (deleted)'),
        });
        return;
      }
      const expectedLeaf = seal.leaves[leafIndex];
      const storedHash = storedHashOf(ev);
      const entryView = toEntry(ev);
      if (leafHashOf(entryView, storedHash) === expectedLeaf) return;
      add({
        kind: 'event-modified',
        eventId,
        message: `event ${eventId} (${at}) was modified: ${whatChanged(ev, entry, seal, leafIndex, storedHash)}`,
      });
    });
  }
}

/** As much as can be told about what changed in a modified event. */
function whatChanged(
  ev: StoredEvent,
  entry: LedgerDoc | undefined,
  seal: Seal,
  leafIndex: number,
  storedHash: string,
): string {
  const parts: string[] = [];
  const sealedStored = seal.storedHashes[leafIndex];
  const publicSame =
    sealedStored !== undefined && leafHashOf(toEntry(ev), sealedStored) === seal.leaves[leafIndex];
  if (!publicSame) parts.push('its public fields (what the API returns) differ from what was sealed');
  if (sealedStored !== storedHash)
    parts.push('its stored-only fields (orgId, ipAddress, userAgent or acceptedAt) differ');
  if (entry) {
    for (const f of ['createdAt', 'acceptedAt'] as const) {
      if (Date.parse(ev[f]) !== Date.parse(entry[f]))
        parts.push(`${f} is ${ev[f]}, the ledger recorded ${entry[f]}`);
    }
  }
  if (ev.orgId !== seal.orgId) parts.push(`orgId is ${ev.orgId}`);
  return `${parts.join('; ')} (leaf ${short(seal.leaves[leafIndex])} sealed)`;
}

/**
 * The ids of sealed events as 53-bit hashes, sorted once filled: 8 bytes per event instead of a string set.
 * A collision can only hide an unsealed entry with odds of about n / 2^53; suspected duplicates are confirmed
 * by id before they are reported.
 */
class IdHashes {
  private values = new Float64Array(1 << 16);
  private n = 0;

  add(id: string): void {
    if (this.n === this.values.length) {
      const bigger = new Float64Array(this.values.length * 2);
      bigger.set(this.values);
      this.values = bigger;
    }
    this.values[this.n++] = hash53(id);
  }

  seal(): void {
    this.values = this.values.slice(0, this.n).sort();
  }

  has(id: string): boolean {
    const h = hash53(id);
    let lo = 0;
    let hi = this.n - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = this.values[mid]!;
      if (v === h) return true;
      if (v < h) lo = mid + 1;
      else hi = mid - 1;
    }
    return false;
  }

  /** Hashes that occur more than once. */
  repeated(): Set<number> {
    const out = new Set<number>();
    for (let i = 1; i < this.n; i++) if (this.values[i] === this.values[i - 1]) out.add(this.values[i]!);
    return out;
  }
}

/** cyrb53: a fast, well-mixed 53-bit string hash. */
function hash53(str: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < str.length; i++) {
    const ch = str.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** An event listed by two seals (or twice by one): found by hash, confirmed and named by id. */
async function reportSealedTwice(
  store: Store,
  orgId: string,
  sealed: IdHashes,
  inWindow: (s: Checkpoint) => boolean,
  problems: Problem[],
): Promise<void> {
  const suspects = sealed.repeated();
  if (suspects.size === 0) return;
  const where = new Map<string, number[]>();
  for await (const seal of iterateSeals(store, orgId, { withLists: true, pageSize: 20 })) {
    if (!inWindow(seal)) continue;
    for (const id of seal.eventIds) {
      if (suspects.has(hash53(id))) where.set(id, [...(where.get(id) ?? []), seal.seq]);
    }
  }
  for (const [eventId, seqs] of where) {
    if (seqs.length < 2) continue;
    problems.push({
      kind: 'sealed-twice',
      orgId,
      seq: seqs[1],
      eventId,
      message: `event ${eventId} is listed by seals ${seqs.join(', ')}: sealed more than once`,
    });
  }
}

/** Step 3. */
async function checkLedger(
  store: Store,
  opts: VerifyOptions,
  chain: { head?: Checkpoint; cursor?: SealCursor; skipped: Set<string>; sealed: IdHashes },
  acceptedFilter: object[],
  report: VerifyReport,
): Promise<void> {
  const { orgId } = opts;
  const { head, cursor, skipped, sealed } = chain;
  const lateBefore = head ? Date.parse(head.sealedAt) - opts.lateGraceMs : -Infinity;
  const problem = (entry: LedgerDoc, why: string) =>
    report.problems.push({
      kind: 'unsealed-late',
      orgId,
      eventId: entry.eventId,
      message: `event ${entry.eventId} (index ${entry.index}) claims acceptance at ${entry.acceptedAt} but is in no seal, ${why}`,
    });
  for await (const entry of scan<LedgerDoc>(
    store,
    INTERNAL.ledger,
    { bool: { filter: [{ term: { orgId } }, ...acceptedFilter] } },
    [{ acceptedAt: 'asc' }, { eventId: 'asc' }],
  )) {
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
    } else {
      report.events.pending += 1;
      report.events.oldestPendingAcceptedAt ??= entry.acceptedAt;
    }
  }
}

/** Step 4: every event document of the org has a ledger entry naming its index. */
async function scanEvents(
  store: Store,
  orgId: string,
  filter: object[],
  report: VerifyReport,
  progress: VerifyOptions['progress'],
): Promise<void> {
  let page: { index: string; doc: StoredEvent }[] = [];
  const flush = async () => {
    const ledger = await mgetSources<LedgerDoc>(
      store,
      page.map(({ doc }) => ({ _index: INTERNAL.ledger, _id: eventDocId(orgId, doc.id) })),
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
  for await (const hit of scanHits<StoredEvent>(store, AUDIT_INDEX_PATTERN, { bool: { filter } }, [
    { acceptedAt: 'asc' },
    { id: 'asc' },
  ])) {
    page.push({ index: hit._index, doc: hit._source });
    if (page.length >= CHUNK) await flush();
  }
  if (page.length > 0) await flush();
}

async function findEventIndex(store: Store, orgId: string, id: string): Promise<string | undefined> {
  const res = await store.search({
    index: AUDIT_INDEX_PATTERN,
    body: { size: 1, query: { bool: { filter: [{ term: { orgId } }, { term: { id } }] } }, _source: false },
  });
  return (res.body as { hits: { hits: { _index: string }[] } }).hits.hits[0]?._index;
}

async function mgetSources<T>(
  store: Store,
  docs: { _index: string; _id: string }[],
): Promise<(T | undefined)[]> {
  if (docs.length === 0) return [];
  const res = await store.mget({ body: { docs } });
  return (
    res.body as { docs: { found?: boolean; _source?: T; error?: { type: string; reason?: string } }[] }
  ).docs.map((d) => {
    if (d.error && d.error.type !== 'index_not_found_exception')
      throw new Error(`reading: ${d.error.reason ?? d.error.type}`);
    return d.found ? d._source : undefined;
  });
}

async function* scanHits<T>(
  store: Store,
  index: string,
  query: object,
  sort: object[],
): AsyncGenerator<{ _index: string; _source: T }> {
  let after: (string | number)[] | undefined;
  for (;;) {
    const res = await store.search({
      index,
      ignore_unavailable: true,
      allow_no_indices: true,
      body: { size: CHUNK, query, sort, ...(after ? { search_after: after } : {}) },
    });
    const hits = (res.body as { hits: { hits: { _index: string; _source: T; sort: (string | number)[] }[] } })
      .hits.hits;
    yield* hits;
    if (hits.length < CHUNK) return;
    after = hits[hits.length - 1]!.sort;
  }
}

async function* scan<T>(store: Store, index: string, query: object, sort: object[]): AsyncGenerator<T> {
  for await (const h of scanHits<T>(store, index, query, sort)) yield h._source;
}
