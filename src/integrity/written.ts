/**
 * What this process's write path has stored while its own sealer leads, kept in memory for that sealer: per
 * org, the ledger entry (key, leaf, storedHash) of every event it wrote under that very entry. The sealer
 * seals from here, checking with one count that the ledger holds nothing else in their range (per batch where
 * it does), instead of reading every entry back from OpenSearch (sealer.ts); the ledger entries themselves go
 * without their leaves meanwhile. So a single instance — the default — reads nothing back.
 *
 * Whatever is not here (entries of other instances, written before this process led or past the bound, or
 * forgotten with the lead) is found by the sealer's walk over the ledger, which hashes the stored event where
 * an entry has no leaf. An entry is added only after its event was stored (bulk 201) under that entry, which
 * the write path never changes afterwards: it re-stamps or releases only entries whose event is not stored.
 */
import { atOrBefore, compareKeys, type SealCursor } from './ledger.ts';

/** What a seal needs of a ledger entry this process wrote: its key and org, the leaf (hex) and storedHash. */
export type WrittenEntry = SealCursor & { orgId: string; leaf: string; storedHash: string };
/** An entry handed to the sealer: its leaf as the 32 bytes kept here (a view, not a copy). */
export type HeldEntry = Omit<WrittenEntry, 'leaf'> & { leaf: Buffer };

/**
 * About 130 bytes each (measured; 280 as one object per entry): at most this many are kept (past it, the
 * write path puts leaves in the ledger again).
 */
export const WRITTEN_MAX = 500_000;

/**
 * The entries of one org from one add() (one request), kept compactly: they live for a seal interval or more,
 * so each entry is not an object of its own but a slot in a few arrays, its leaf 32 bytes of one buffer.
 */
interface Chunk {
  eventIds: string[];
  acceptedAt: string[];
  storedHashes: string[];
  leaves: Buffer;
}

/** The chunk's entries at the positions given. */
function subChunk(c: Chunk, at: number[]): Chunk {
  const leaves = Buffer.allocUnsafe(at.length * 32);
  at.forEach((k, i) => c.leaves.copy(leaves, i * 32, k * 32, k * 32 + 32));
  return {
    eventIds: at.map((k) => c.eventIds[k]!),
    acceptedAt: at.map((k) => c.acceptedAt[k]!),
    storedHashes: at.map((k) => c.storedHashes[k]!),
    leaves,
  };
}

export class Written {
  private leader = false;
  private readonly byOrg = new Map<string, Chunk[]>();
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
    const byOrg = new Map<string, WrittenEntry[]>();
    for (const e of entries) {
      const list = byOrg.get(e.orgId);
      if (list) list.push(e);
      else byOrg.set(e.orgId, [e]);
    }
    for (const [orgId, list] of byOrg) {
      const leaves = Buffer.allocUnsafe(list.length * 32);
      list.forEach((e, k) => {
        if (leaves.write(e.leaf, k * 32, 'hex') !== 32)
          throw new Error(`leaf of ${e.eventId} is not 32 bytes`);
      });
      const chunk: Chunk = {
        eventIds: list.map((e) => e.eventId),
        acceptedAt: list.map((e) => e.acceptedAt),
        storedHashes: list.map((e) => e.storedHash),
        leaves,
      };
      const chunks = this.byOrg.get(orgId);
      if (chunks) chunks.push(chunk);
      else this.byOrg.set(orgId, [chunk]);
    }
    this.size += entries.length;
  }

  /**
   * The org's entries with keys after the cursor and acceptedAt up to the cutoff, in key order. Entries at or
   * before the cursor are sealed: they are forgotten.
   */
  after(orgId: string, cursor: SealCursor | undefined, cutoff: string): HeldEntry[] {
    const chunks = this.byOrg.get(orgId);
    if (!chunks) return [];
    const out: HeldEntry[] = [];
    const kept: Chunk[] = [];
    for (const c of chunks) {
      const open: number[] = [];
      c.eventIds.forEach((eventId, k) => {
        const key = { acceptedAt: c.acceptedAt[k]!, eventId };
        if (cursor && atOrBefore(key, cursor)) return;
        open.push(k);
        if (compareKeys(key, { acceptedAt: cutoff, eventId }) <= 0)
          out.push({
            orgId,
            eventId,
            acceptedAt: key.acceptedAt,
            leaf: c.leaves.subarray(k * 32, k * 32 + 32),
            storedHash: c.storedHashes[k]!,
          });
      });
      this.size -= c.eventIds.length - open.length;
      if (open.length === c.eventIds.length) kept.push(c);
      else if (open.length > 0) kept.push(subChunk(c, open));
    }
    if (kept.length === 0) this.byOrg.delete(orgId);
    else this.byOrg.set(orgId, kept);
    return out.sort(compareKeys);
  }

  private clear(): void {
    this.byOrg.clear();
    this.size = 0;
  }
}
