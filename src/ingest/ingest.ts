/**
 * The write path: validated events go into their day index exactly once, through the ledger
 * (integrity/ledger.ts). One ledger document per event (eventDocId, index INTERNAL.ledger)
 * is the single place that knows every id already taken, whatever day a retry lands on.
 *
 * Per request:
 *  1. one `_bulk` of ledger `create`s. 201 = the id is ours; 409 = taken before → duplicate, unless the
 *     event is missing from the index the ledger names (an earlier attempt died between the two writes):
 *     then this request finishes that attempt with the ledger's createdAt and acceptedAt.
 *  2. one `_bulk` of event `create`s, only for the ids step 1 gave us.
 * Two bulks, not one: `_bulk` does not stop at a failed item, so an event create in the same bulk as a
 * ledger 409 would still write a second copy into another day's index (and day indices refuse deletes).
 * Both indices use `translog.durability: request`, so a bulk that returned is durable; nothing is answered
 * before. Storage trouble throws (the route answers 503): the ledger makes the client's retry safe.
 *
 * Between the two steps, entries whose ledger write took longer than LEDGER_FRESH_MS after `acceptedAt` get a
 * new `acceptedAt` (and leaf) before their event is written: the sealer relies on it (integrity/ledger.ts).
 */
import type { AppContext } from '../context.ts';
import type { StoredEvent } from '../events/schema.ts';
import { InvariantViolation, StoreUnavailable } from '../errors.ts';
import { ledgerEntryOf, LEDGER_FRESH_MS } from '../integrity/ledger.ts';
import { hexOf, leafAndJsonOf, type HashedEvent } from '../integrity/event-hash.ts';
import { newSalt } from '../integrity/leaf.ts';
import type { WrittenEntry } from '../integrity/written.ts';
import {
  failedForNow,
  retryLater,
  writeCall,
  writeDocs,
  writeEach,
  type DocVersion,
} from '../store/bulk-writes.ts';
import { getEvents } from '../store/event-lookups.ts';
import { createEvent } from '../store/events.ts';
import { claimEntry, replaceEntry } from '../store/ledger-store.ts';
import { eventDocId } from '../store/names.ts';
import {
  heldByOtherOrg,
  unfinished,
  type IngestOutcome,
  type IngestResult,
  type Pending,
  type WriteCtx,
} from './outcomes.ts';
import { refusedEvent, releaseClaims } from './release.ts';
import { checkEvent, checkStorage, type Accepted, type Rejection } from './validate.ts';

/** How an ingest is called: the key's bound org, and when it must have finished (epoch ms; default: none). */
export interface IngestOptions {
  boundOrgId?: string;
  deadline?: number;
}

export async function ingestEvents(
  ctx: AppContext,
  opts: IngestOptions,
  inputs: unknown[],
): Promise<IngestResult[]> {
  return (await ingestWithDetail(ctx, opts, inputs)).map(({ id, status, error }) =>
    error === undefined ? { id, status } : { id, status, error },
  );
}

/** `refused`: events already rejected by position (the route's strict scan of the body). */
export async function ingestWithDetail(
  appCtx: AppContext,
  opts: IngestOptions,
  inputs: unknown[],
  refused: ReadonlyMap<number, Rejection> = new Map(),
): Promise<IngestOutcome[]> {
  const ctx: WriteCtx = { ...appCtx, deadline: opts.deadline ?? Infinity };
  const now = new Date();
  const checkOpts = { boundOrgId: opts.boundOrgId, now, sealAfterDays: ctx.cfg.sealAfterDays };
  const checked = await checkStorage(
    ctx.store,
    inputs.map((input, i) => refused.get(i) ?? checkEvent(input, checkOpts)),
  );
  const out: (IngestOutcome | undefined)[] = checked.map((c) =>
    c.ok
      ? undefined
      : { id: c.id, status: 'rejected', error: c.error, ...(c.param ? { param: c.param } : {}) },
  );

  // The same id twice in one request: the first occurrence is written, later ones share its outcome.
  const firstOf = new Map<string, number>();
  const repeats: [number, number][] = [];
  checked.forEach((c, i) => {
    if (!c.ok) return;
    const key = eventDocId(c.doc.orgId, c.doc.id);
    const first = firstOf.get(key);
    if (first === undefined) firstOf.set(key, i);
    else repeats.push([i, first]);
  });
  const pending = [...firstOf.values()].map((i) => ({ i, event: checked[i] as Accepted }));

  if (pending.length > 0) {
    const results = await writeThroughLedger(ctx, pending);
    for (const [i, outcome] of results) out[i] = outcome;
  }
  for (const [i, first] of repeats) {
    const o = out[first]!;
    out[i] =
      o.status === 'rejected'
        ? { ...o, id: (checked[i] as Accepted).doc.id }
        : { id: o.id, status: 'duplicate' };
  }
  // Every ingest path counts here (HTTP, the directory's own events, the seeder and the demo), once per
  // outcome rather than per event: a batch holds up to 1,000.
  const byOutcome = new Map<string, number>();
  for (const o of out) byOutcome.set(o!.status, (byOutcome.get(o!.status) ?? 0) + 1);
  for (const [outcome, n] of byOutcome) appCtx.metrics?.ingestEvents.inc({ outcome }, n);
  return out.map((o) => o!);
}

async function writeThroughLedger(ctx: WriteCtx, claims: Pending[]): Promise<Map<number, IngestOutcome>> {
  const out = new Map<number, IngestOutcome>();

  // 1. Claim the ids in the ledger, accepted as of now (not as of validation: see LEDGER_FRESH_MS). Each event
  // gets its own salt, so that its storedHash reveals nothing of its IP address or user agent (leaf.ts).
  const sentAt = Date.now();
  const acceptedAt = new Date(sentAt).toISOString();
  const pending = claims.map(({ i, event }) => ({
    i,
    event: { ...event, doc: { ...event.doc, acceptedAt, salt: newSalt() } },
  }));
  // Each event's leaf (sealing on) goes into its ledger entry, unless this process's sealer leads (and has
  // room): then that sealer takes it from memory (written.ts), and the entry is as small as with sealing off.
  const hashed = pending.map(({ event: { doc } }) => (ctx.cfg.sealing ? leafAndJsonOf(doc) : undefined));
  const inMemory = ctx.written?.taking === true;
  const entries = pending.map(({ event: { doc, index } }, k) => {
    const h = inMemory ? undefined : hashed[k];
    return ledgerEntryOf(doc, index, h && { leaf: hexOf(h.leaf), storedHash: hexOf(h.storedHash) });
  });
  const ledgerItems = await writeEach(
    ctx.store,
    entries.map((entry) => claimEntry(entry)),
    ctx.deadline,
  );
  const claimFailure = retryLater(ledgerItems);
  if (claimFailure) {
    // Some ids could not be claimed for now: the request is answered 503, and the claims it did get are freed.
    const got = pending.flatMap((p, k) => (ledgerItems[k]!.status === 201 ? [k] : []));
    await releaseClaims(
      ctx.store,
      got.map((k) => ({ doc: pending[k]!.event.doc, claim: ledgerItems[k]!.version })),
      ctx.deadline,
    );
    throw claimFailure;
  }
  // `hashed`: the leaf, storedHash and JSON of `doc` as it is (none once re-stamped): the event is sent as that
  // JSON, and the sealer in memory gets the leaf and storedHash.
  // `claim`: the version of the ledger entry this request wrote, so that only that version is ever released.
  let toWrite: { p: Pending; doc: StoredEvent; index: string; hashed?: HashedEvent; claim?: DocVersion }[] =
    [];
  const taken: Pending[] = [];
  pending.forEach((p, k) => {
    const item = ledgerItems[k]!;
    if (item.status === 201)
      toWrite.push({ p, doc: p.event.doc, index: p.event.index, hashed: hashed[k], claim: item.version });
    else if (item.status === 409) taken.push(p);
    else out.set(p.i, refusedEvent(p.event.doc.id, item));
  });

  // A taken id is a duplicate, unless its event never made it into the index the ledger names. Such an
  // attempt was never acknowledged, so it is accepted now: the ledger entry takes the new acceptedAt first
  // (the sealer orders by it and holds back entries that look back-dated), then the event is written.
  const restarted = await unfinished(ctx, taken, out);
  if (restarted.length > 0) {
    toWrite.push(
      ...(await renew(
        ctx,
        restarted.map(({ p, entry }) => ({
          p,
          doc: { ...p.event.doc, createdAt: entry.createdAt },
          index: entry.index,
        })),
      )),
    );
  }
  // A slow ledger write: its entries could have become visible after the sealer's walk passed their key.
  if (Date.now() - sentAt > LEDGER_FRESH_MS) toWrite = await renew(ctx, toWrite);

  // 2. Write the events.
  if (toWrite.length === 0) return out;
  const eventItems = await writeEach(
    ctx.store,
    toWrite.map(({ doc, index, hashed }) => createEvent(index, doc, hashed?.json)),
    ctx.deadline,
  );
  const undo: { doc: StoredEvent; claim?: DocVersion }[] = [];
  // The `_id` carries the org, so a 409 is this org's own event (a concurrent attempt finished it first),
  // unless another org's event stored there before ids were unambiguous holds it (legacyEventDocId).
  const conflicts = toWrite.filter((_, k) => eventItems[k]!.status === 409);
  const holders =
    conflicts.length === 0
      ? []
      : await getEvents(
          ctx.store,
          conflicts.map(({ doc, index }) => ({
            index,
            orgId: doc.orgId,
            eventId: doc.id,
            fields: ['orgId'],
          })),
          writeCall(ctx.deadline),
        );
  const heldByOther = new Set(conflicts.filter((_, k) => holders[k] === undefined));
  const written: WrittenEntry[] = [];
  toWrite.forEach((w, k) => {
    const { p, doc, hashed, claim } = w;
    const item = eventItems[k]!;
    // Not stored, for now only (a full disk, a busy engine): the whole request is answered 503, and the id is
    // freed so that the retry claims it afresh rather than meet an entry whose event is missing.
    if (failedForNow(item)) undo.push({ doc, claim });
    else if (item.status === 201) {
      out.set(p.i, { id: doc.id, status: 'created' });
      if (inMemory && hashed) {
        const { orgId, id: eventId, acceptedAt } = doc;
        const { leaf, storedHash } = hashed;
        written.push({ orgId, eventId, acceptedAt, leaf, storedHash, index: w.index });
      }
    } else if (item.status === 409 && !heldByOther.has(w)) out.set(p.i, { id: doc.id, status: 'duplicate' });
    // Never writable (e.g. the index was sealed meanwhile, or the id is another org's there): free the id so
    // the ledger claims no phantom event.
    else {
      out.set(p.i, item.status === 409 ? heldByOtherOrg(doc.id, w.index) : refusedEvent(doc.id, item));
      undo.push({ doc, claim });
    }
  });
  ctx.written?.add(written);
  await releaseClaims(ctx.store, undo, ctx.deadline);
  const failure = retryLater(eventItems);
  if (failure) throw failure;
  return out;
}

/**
 * Re-writes claimed ledger entries with `acceptedAt` = now, until one write is stored within LEDGER_FRESH_MS
 * of its `acceptedAt`; returns the events to write, with that acceptedAt. The entries are ours (claimed,
 * event not written), so a plain index replaces them and any sealer mark. A renewed entry carries no leaf:
 * two requests with the same id (a client retrying while its first attempt is still in flight) may both
 * renew it, and only the event that gets stored decides the leaf, so the sealer hashes that event itself.
 */
async function renew<T extends { doc: StoredEvent; index: string }>(
  ctx: WriteCtx,
  claims: T[],
): Promise<(T & { claim?: DocVersion })[]> {
  for (let attempt = 1; ; attempt++) {
    const acceptedAt = new Date().toISOString();
    const sentAt = Date.now();
    const renewed = claims.map((c) => ({ ...c, doc: { ...c.doc, acceptedAt }, hashed: undefined }));
    const items = await writeDocs(
      ctx.store,
      renewed.map(({ doc, index }) => replaceEntry(ledgerEntryOf(doc, index))),
      ctx.deadline,
    );
    const bad = items.find((item) => item.status !== 200 && item.status !== 201);
    if (bad)
      throw new InvariantViolation(
        `could not renew ledger entry ${bad.id}: ${bad.error?.reason ?? bad.status}`,
      );
    if (Date.now() - sentAt <= LEDGER_FRESH_MS)
      return renewed.map((c, k) => ({ ...c, claim: items[k]!.version }));
    // OpenSearch is this slow: nothing was acknowledged, the client's retry finishes these ids.
    if (attempt === 3) throw new StoreUnavailable('ledger writes stayed slower than the sealer allows');
  }
}
