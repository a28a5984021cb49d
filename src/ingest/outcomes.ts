/**
 * What an ingest answers per event, and what becomes of an id the ledger already holds: a duplicate, or an
 * earlier attempt that died between its two writes, which this request finishes.
 */
import type { AppContext } from '../context.ts';
import { pastRetention } from '../days.ts';
import type { LedgerEntry } from '../integrity/ledger.ts';
import { retentionInEffect } from '../lifecycle/retention-setting.ts';
import { writeCall } from '../store/bulk-writes.ts';
import { dayExists, getEvents } from '../store/event-lookups.ts';
import { getEntriesOf } from '../store/ledger-store.ts';
import type { Accepted } from './validate.ts';

export interface IngestResult {
  id: string;
  status: 'created' | 'duplicate' | 'rejected';
  error?: string;
}

/** A result plus the field at fault, for the single-event form of the route (a 400 naming `param`). */
export interface IngestOutcome extends IngestResult {
  param?: string;
}

/** The write path's context: every OpenSearch call it makes must finish by `deadline`. */
export type WriteCtx = AppContext & { deadline: number };

/** An accepted event of the request, by its place in it. */
export type Pending = { i: number; event: Accepted };

/** Of the taken ids, those whose event is missing from its index (with their ledger entries); the rest are duplicates. */
export async function unfinished(
  ctx: WriteCtx,
  taken: Pending[],
  out: Map<number, IngestOutcome>,
): Promise<{ p: Pending; entry: LedgerEntry }[]> {
  if (taken.length === 0) return [];
  const ledger = await getEntriesOf(
    ctx.store,
    taken.map(({ event: { doc } }) => ({ orgId: doc.orgId, eventId: doc.id })),
    { call: writeCall(ctx.deadline) },
  );
  const withEntry: { p: Pending; entry: LedgerEntry }[] = [];
  taken.forEach((p, k) => {
    const entry = ledger[k];
    // Released between our create and this read (a concurrent attempt was rejected): report it as a retry would see it.
    if (!entry)
      out.set(p.i, {
        id: p.event.doc.id,
        status: 'rejected',
        error: 'id: a concurrent attempt with this id was rejected; retry',
      });
    else withEntry.push({ p, entry });
  });
  // A missing day index is an event that is not there; other failures throw, never a guess (getMany).
  const events =
    withEntry.length === 0
      ? []
      : await getEvents<{ orgId: string }>(
          ctx.store,
          withEntry.map(({ entry }) => ({
            index: entry.index,
            orgId: entry.orgId,
            eventId: entry.eventId,
            fields: ['orgId'],
          })),
          writeCall(ctx.deadline),
        );

  const missing: { p: Pending; entry: LedgerEntry }[] = [];
  const retention = events.includes(undefined) ? await retentionInEffect(ctx.store, ctx.cfg) : undefined;
  // A day past retention whose index is gone: the event may have existed, and its index must not be
  // re-created. Where the day is still there, a missing event is an unfinished attempt to finish.
  const gone = new Map<string, boolean>();
  for (const [k, w] of withEntry.entries()) {
    if (events[k] !== undefined || !retention || gone.has(w.entry.index)) continue;
    if (pastRetention(retention, new Date(w.entry.createdAt), new Date()))
      gone.set(w.entry.index, !(await dayExists(ctx.store, w.entry.index)));
  }
  withEntry.forEach((w, k) => {
    if (events[k] === undefined && !gone.get(w.entry.index)) missing.push(w);
    else out.set(w.p.i, { id: w.p.event.doc.id, status: 'duplicate' });
  });
  return missing;
}

/** The answer for an id taken by another org's event, stored before ids with ":" were told apart. */
export function heldByOtherOrg(id: string, index: string): IngestOutcome {
  return {
    id,
    status: 'rejected',
    param: 'id',
    error:
      `id: "${id}" is taken in ${index} by an event of another organization stored before ids with ":" ` +
      'were told apart; send this event with another id',
  };
}
