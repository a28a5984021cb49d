/**
 * What this process's write path has stored, kept in memory for this process's sealer: per org, the ledger
 * entry (key, leaf, storedHash) of every event it wrote with that very entry. When the service runs as one
 * instance — the default — its sealer then seals from here, checking with one count per batch that the ledger
 * holds nothing else in the batch's range, instead of reading every entry back from OpenSearch (sealer.ts).
 *
 * Only an optimisation: whatever is missing here (entries of other instances, of a previous process, entries
 * dropped when the memory bound was reached) is found by the sealer's walk over the ledger as before.
 * An entry is added only after its event was stored (bulk 201) under that entry, which the write path never
 * changes afterwards: it re-stamps or releases only entries whose event is not stored.
 */
import { atOrBefore, compareKeys, type LedgerEntry, type SealCursor } from './ledger.ts';

/** A ledger entry with the leaf its event was stored with. */
export type WrittenEntry = LedgerEntry & { leaf: string; storedHash: string };

/** About 300 bytes each: the bound keeps a sealer that is far behind (or not leading) from growing the heap. */
export const WRITTEN_MAX = 500_000;

export class Written {
  /**
   * Set by this process's sealer while it holds the lease. The write path then keeps leaves out of the
   * ledger: this memory carries them. Should the sealer stop leading before it sealed them (a crash, a lost
   * lease), the next leader's walk hashes those events from the day index, as for entries written with
   * sealing off.
   */
  leading = false;
  private readonly byOrg = new Map<string, WrittenEntry[]>();
  private size = 0;

  constructor(private readonly max = WRITTEN_MAX) {}

  add(entries: WrittenEntry[]): void {
    if (this.size + entries.length > this.max) this.clear(); // the sealer's walk finds them in the ledger
    for (const e of entries) {
      const list = this.byOrg.get(e.orgId);
      if (list) list.push(e);
      else this.byOrg.set(e.orgId, [e]);
    }
    this.size += entries.length;
  }

  /**
   * The org's entries with keys after the cursor and acceptedAt up to the cutoff, in key order. Entries at or
   * before the cursor are sealed: they are forgotten.
   */
  after(orgId: string, cursor: SealCursor | undefined, cutoff: string): WrittenEntry[] {
    const list = this.byOrg.get(orgId);
    if (!list) return [];
    const open = cursor ? list.filter((e) => !atOrBefore(e, cursor)) : list;
    this.size -= list.length - open.length;
    if (open.length === 0) this.byOrg.delete(orgId);
    else this.byOrg.set(orgId, open);
    return open
      .filter((e) => compareKeys(e, { acceptedAt: cutoff, eventId: e.eventId }) <= 0)
      .sort(compareKeys);
  }

  clear(): void {
    this.byOrg.clear();
    this.size = 0;
  }
}
