/**
 * Late seals: entries the walk passed while their event was missing (marked `waiting`) are sealed in a seal of
 * their own once their event has appeared, and marked `sealed: true, seal: { seq, leaf }`. Entries accepted
 * more than `lateGraceMs` before the newest seal was made, or whose event has not appeared after
 * `missingEventGraceMs`, are held back and reported instead.
 */
import type { StoredEvent } from '../../events/schema.ts';
import { markEntries, waitingEntries } from '../../store/ledger-store.ts';
import { refreshSeals, sealListsSpanning } from '../../store/seal-store.ts';
import type { SealHead } from '../checkpoint.ts';
import { leafOfEvent } from '../event-hash.ts';
import { compareKeys } from '../ledger.ts';
import { batchOf } from '../written.ts';
import type { OrgResult, Sealing } from './sealer-context.ts';
import { createSeal, markLate } from './seal.ts';
import { eventsOfEntries } from './walk.ts';

/**
 * Seals waiting entries whose event has appeared (one late seal per batch); returns the new head. The event
 * is the authority: it is hashed as stored, under its own acceptedAt. An event some seal already lists (a
 * retry re-stamped its entry after the first attempt's event was sealed, or a mark was lost) is not sealed
 * again: its entry is marked with that seal.
 */
export async function sealLate(s: Sealing, orgId: string, head: SealHead, out: OrgResult): Promise<SealHead> {
  for (;;) {
    const hits = await waitingEntries(s.ctx.store, orgId, s.opts.batchCap);
    // The search view can lag the marks of the seal just made; never put an event into two seals.
    const inHead = new Set(head.late ? head.eventIds : []);
    const entries = hits.filter((e) => !inHead.has(e.eventId));
    if (entries.length === 0) return head;
    const docs = await eventsOfEntries(
      s,
      entries.map(({ leaf: _l, storedHash: _s, ...e }) => e),
    );
    const now = Date.now();
    const lateBefore = Date.parse(head.sealedAt) - s.opts.lateGraceMs;
    const found: { eventId: string; index: string; doc: StoredEvent }[] = [];
    entries.forEach((e, k) => {
      const accepted = Date.parse(e.acceptedAt);
      if (accepted < lateBefore) {
        s.report(
          {
            orgId,
            eventId: e.eventId,
            reason: 'accepted-before-newest-seal',
            detail: `accepted at ${e.acceptedAt}, more than ${s.opts.lateGraceMs / 1000} s before seal ${head.seq} was made (${head.sealedAt})`,
          },
          out,
        );
      } else if (docs[k]) {
        found.push({ eventId: e.eventId, index: e.index, doc: docs[k] as StoredEvent });
      } else if (now - accepted > s.opts.missingEventGraceMs) {
        s.report(
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
    const already = await sealedAlready(
      s,
      orgId,
      found.map(({ eventId, doc }) => ({ eventId, acceptedAt: doc.acceptedAt })),
    );
    // Refreshed: the next search for waiting entries must not find these again (a full batch loops).
    await markEntries(
      s.ctx.store,
      orgId,
      [...already].map(([eventId, seal]) => [eventId, { sealed: true, seal }]),
      already.size > 0,
      'as sealed already',
    );
    const ready = found
      .filter(({ eventId }) => !already.has(eventId))
      .map(({ eventId, index, doc }) => ({ eventId, index, acceptedAt: doc.acceptedAt, ...leafOfEvent(doc) }))
      .sort(compareKeys);
    if (ready.length > 0) {
      const seal = await createSeal(s, orgId, batchOf(ready), head, { late: true, cursor: head.cursor });
      if (!seal) return head;
      await markLate(s, seal);
      out.sealed.push({ orgId, seq: seal.seq, count: seal.count });
      head = seal;
    }
    if (hits.length < s.opts.batchCap) return head;
  }
}

/**
 * Which of these events some seal of the org already lists, with that seal's seq and the event's leaf. Every
 * seal spans the acceptedAt of the events it lists (walk seals by their entries' keys, which are their
 * events' acceptedAt; late seals by their events'), so the seals spanning an event's acceptedAt are looked in.
 */
async function sealedAlready(
  s: Sealing,
  orgId: string,
  events: { eventId: string; acceptedAt: string }[],
): Promise<Map<string, { seq: number; leaf: number }>> {
  const found = new Map<string, { seq: number; leaf: number }>();
  await refreshSeals(s.ctx.store);
  const wanted = new Set(events.map((e) => e.eventId));
  const times = [...new Set(events.map((e) => e.acceptedAt))];
  for await (const seal of sealListsSpanning(s.ctx.store, orgId, times)) {
    seal.eventIds.forEach((id, leaf) => {
      if (wanted.has(id) && !found.has(id)) found.set(id, { seq: seal.seq, leaf });
    });
  }
  return found;
}
