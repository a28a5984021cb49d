/**
 * The ledger entry (index INTERNAL.ledger, `_id` = eventDocId(orgId, eventId)): one per accepted event,
 * written by the write path before the event itself, and the sealer's work list.
 *
 * The entry carries the event's leaf and storedHash, computed at ingest from the very document that is then
 * stored, so the sealer does not re-read events — except while the ingesting process's own sealer leads: that
 * sealer has them in memory (written.ts), and the entry goes without. It seals entries in key order —
 * (acceptedAt, eventId) — and remembers how far it got in the seal itself (`cursor`); an ordinary entry is
 * never written again. Only the
 * rare exceptions are marked: an entry the walk passed while its event was not there yet gets `waiting`,
 * and when a later ("late") seal takes it, `sealed` and `seal: { seq, leaf }`.
 *
 * What makes the cursor safe: the sealer only walks entries accepted at least SEAL_SAFETY_MARGIN_MS ago, after
 * refreshing the ledger, and the write path never writes an event whose ledger entry took longer than
 * LEDGER_FRESH_MS from `acceptedAt` to be stored — it renews `acceptedAt` first (ingest.ts). So an entry the
 * walk could not see yet always ends up with a key beyond the cursor. Instances' clocks must agree to within
 * the difference (1 s).
 */
import type { StoredEvent } from '../events/schema.ts';
import type { LedgerEntry, SealCursor } from '../store/ledger-store.ts';
import type { EventHashes } from './event-hash.ts';

// The entry's document and its queries belong to the store; re-exported for the domain's readers.
export { pendingClause, type LedgerDoc, type LedgerEntry, type SealCursor } from '../store/ledger-store.ts';

/** The write path renews `acceptedAt` when storing the ledger entry took longer than this. */
export const LEDGER_FRESH_MS = 1000;
/** The sealer leaves entries younger than this for the next round. Must exceed LEDGER_FRESH_MS plus clock skew. */
export const SEAL_SAFETY_MARGIN_MS = 2000;

/** The ledger entry of an event, with its leaf and storedHash (leafOfEvent) where given. */
export function ledgerEntryOf(doc: StoredEvent, index: string): LedgerEntry;
export function ledgerEntryOf(doc: StoredEvent, index: string, hashes: EventHashes): Required<LedgerEntry>;
export function ledgerEntryOf(doc: StoredEvent, index: string, hashes?: EventHashes): LedgerEntry;
export function ledgerEntryOf(doc: StoredEvent, index: string, hashes?: EventHashes): LedgerEntry {
  // Spelled out, not spread: the write path makes one or two of these per event.
  const entry: LedgerEntry = {
    orgId: doc.orgId,
    eventId: doc.id,
    idHash: idHashOf(doc.id),
    index,
    createdAt: doc.createdAt,
    acceptedAt: doc.acceptedAt,
  };
  if (hashes) {
    entry.leaf = hashes.leaf;
    entry.storedHash = hashes.storedHash;
  }
  return entry;
}

/**
 * A 31-bit FNV-1a hash of an event id. Sums of up to 2^22 of them stay exact in a double, so the sum over a
 * range of entries, next to their count, tells (but for a 2^-31 chance) whether the range holds exactly a given
 * set of entries.
 */
export function idHashOf(eventId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < eventId.length; i++) {
    h ^= eventId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 1;
}

/**
 * Key order, as the sorted search orders entries: acceptedAt as an instant, then eventId (ids are ASCII, so
 * comparing strings here is comparing their bytes there).
 */
export function compareKeys(a: SealCursor, b: SealCursor): number {
  const x = a.acceptedAt;
  const y = b.acceptedAt;
  if (x !== y) {
    // The write path stores toISOString() (yyyy-MM-ddTHH:mm:ss.SSSZ), which sorts as text; anything else is parsed.
    if (x.length === 24 && y.length === 24 && x.endsWith('Z') && y.endsWith('Z')) return x < y ? -1 : 1;
    const d = Date.parse(x) - Date.parse(y);
    if (d !== 0) return d;
  }
  return a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0;
}

/** Is the entry's key at or before the cursor? */
export function atOrBefore(entry: SealCursor, cursor: SealCursor | undefined): boolean {
  return cursor !== undefined && compareKeys(entry, cursor) <= 0;
}
