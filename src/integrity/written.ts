/**
 * What this process's write path has stored while its own sealer leads, kept in memory for that sealer: per
 * org, the ledger entry (key, leaf, storedHash) of every event it wrote under that very entry. The sealer
 * seals from here, checking with one count per batch that the ledger holds nothing else in the batch's range,
 * instead of reading every entry back from OpenSearch (sealer.ts); the ledger entries themselves go without
 * their leaves meanwhile. So a single instance — the default — reads nothing back.
 *
 * Whatever is not here (entries of other instances, written before this process led or past the bound, or
 * forgotten with the lead) is found by the sealer's walk over the ledger, which hashes the stored event where
 * an entry has no leaf. An entry is added only after its event was stored (bulk 201) under that entry, which
 * the write path never changes afterwards: it re-stamps or releases only entries whose event is not stored.
 */
import { atOrBefore, compareKeys, type LedgerEntry, type SealCursor } from './ledger.ts';

/** A ledger entry with the leaf its event was stored with. */
export type WrittenEntry = LedgerEntry & { leaf: string; storedHash: string };

/** About 300 bytes each: at most this many are kept (past it, the write path puts leaves in the ledger again). */
export const WRITTEN_MAX = 500_000;

export class Written {
  private leader = false;
  private readonly byOrg = new Map<string, WrittenEntry[]>();
  private size = 0;

  constructor(private readonly max = WRITTEN_MAX) {}

  /**
   * Whether the write path hands its entries over here, and keeps their leaves out of the ledger: while this
   * process's sealer leads, as long as there is room. Should that sealer stop leading before it sealed them
   * (a crash, a lost lease), the next leader's walk hashes those events from the day index, as for entries
   * written with sealing off.
   */
  get taking(): boolean {
    return this.leader && this.size < this.max;
  }

  /** Set by this process's sealer as it takes or loses the lease; losing it forgets everything. */
  set leading(yes: boolean) {
    if (!yes) this.clear();
    this.leader = yes;
  }

  get leading(): boolean {
    return this.leader;
  }

  /**
   * Entries the write path stored while `taking` was true (a request that started before the bound was
   * reached may go a little past it: its entries are in no ledger with their leaves, so they are kept).
   */
  add(entries: WrittenEntry[]): void {
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

  private clear(): void {
    this.byOrg.clear();
    this.size = 0;
  }
}
