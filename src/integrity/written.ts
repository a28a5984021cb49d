/**
 * What this process's write path has stored while its own sealer leads, kept in memory for that sealer: per
 * org, the ledger entry (key, leaf, storedHash) of every event it wrote under that very entry. The sealer
 * seals from here, checking with one count that the ledger holds nothing else in their range (per batch where
 * it does), instead of reading every entry back from OpenSearch (sealer/); the ledger entries themselves go
 * without their leaves meanwhile. So a single instance — the default — reads nothing back.
 *
 * Whatever is not here (entries of other instances, written before this process led or past the bound, or
 * forgotten with the lead) is found by the sealer's walk over the ledger, which hashes the stored event where
 * an entry has no leaf. An entry is added only after its event was stored (bulk 201) under that entry, which
 * the write path never changes afterwards: it re-stamps or releases only entries whose event is not stored.
 */
import { atOrBefore, compareKeys, type SealCursor } from './ledger.ts';
import { InvariantViolation } from '../errors.ts';
import type { Bytes32 } from './event-hash.ts';

/**
 * What a seal needs of a ledger entry this process wrote: its key and org, the leaf and storedHash (Bytes32, as
 * the write path computed them), and the day index its event is in.
 */
export type WrittenEntry = SealCursor & { orgId: string; leaf: Bytes32; storedHash: Bytes32; index: string };

/**
 * At most this many entries are kept (past it, the write path puts leaves in the ledger again): per entry, its
 * id string and 64 bytes of buffers.
 */
export const WRITTEN_MAX = 150_000;

/**
 * Entries of one org in a row, as a seal takes them: not an object per entry but a slot in a few lists, the
 * leaf and storedHash 32 bytes each of two buffers. What add() keeps per request (they live for a seal interval
 * or more, and every young-generation GC would copy an object per entry), and what after() hands to the sealer.
 */
export interface EntryBatch {
  eventIds: string[];
  acceptedAt: string[];
  storedHashes: Buffer;
  /** The day index each event is in (the same few strings, shared). */
  indices: string[];
  leaves: Buffer;
}

/** The key (acceptedAt, eventId) of a batch's entry. */
export function keyAt(b: EntryBatch, k: number): SealCursor {
  return { acceptedAt: b.acceptedAt[k]!, eventId: b.eventIds[k]! };
}

/** The entries [from, to) of a batch (the leaves are a view, not a copy). */
export function sliceBatch(b: EntryBatch, from: number, to: number): EntryBatch {
  return {
    eventIds: b.eventIds.slice(from, to),
    acceptedAt: b.acceptedAt.slice(from, to),
    storedHashes: b.storedHashes.subarray(from * 32, to * 32),
    indices: b.indices.slice(from, to),
    leaves: b.leaves.subarray(from * 32, to * 32),
  };
}

/**
 * A batch of entries given one by one, their leaves and storedHashes hex (the walk's, from the ledger: a value
 * that is not 64 hex digits throws, naming the event) or Bytes32 (the write path's).
 */
export function batchOf(
  entries: (SealCursor & { leaf: string; storedHash: string; index: string })[],
  encoding: 'hex' | 'latin1' = 'hex',
): EntryBatch {
  const n = entries.length;
  const width = encoding === 'hex' ? 64 : 32;
  const out: EntryBatch = {
    eventIds: new Array<string>(n),
    acceptedAt: new Array<string>(n),
    storedHashes: Buffer.allocUnsafe(n * 32),
    indices: new Array<string>(n),
    leaves: Buffer.allocUnsafe(n * 32),
  };
  const put = (value: string, into: Buffer, k: number, what: string, eventId: string) => {
    if (value.length !== width || into.write(value, k * 32, 32, encoding) !== 32)
      throw new InvariantViolation(`${what} of ${eventId} is not 32 bytes of ${encoding}`);
  };
  entries.forEach((e, k) => {
    out.eventIds[k] = e.eventId;
    out.acceptedAt[k] = e.acceptedAt;
    out.indices[k] = e.index;
    put(e.leaf, out.leaves, k, 'leaf', e.eventId);
    put(e.storedHash, out.storedHashes, k, 'storedHash', e.eventId);
  });
  return out;
}

/** Whether a batch's entries share one acceptedAt and come in id order: in key order, one key after another. */
function inKeyOrder(b: EntryBatch): boolean {
  for (let k = 1; k < b.eventIds.length; k++)
    if (b.acceptedAt[k] !== b.acceptedAt[0] || !(b.eventIds[k - 1]! < b.eventIds[k]!)) return false;
  return true;
}

/** The entries of the batches at the positions given, in that order: entry i is entry k[i] of batch b[i]. */
function pick(from: EntryBatch[], b: number[], k: number[]): EntryBatch {
  const out: EntryBatch = {
    eventIds: new Array<string>(k.length),
    acceptedAt: new Array<string>(k.length),
    storedHashes: Buffer.allocUnsafe(k.length * 32),
    indices: new Array<string>(k.length),
    leaves: Buffer.allocUnsafe(k.length * 32),
  };
  k.forEach((at, i) => {
    const c = from[b[i]!]!;
    out.eventIds[i] = c.eventIds[at]!;
    out.acceptedAt[i] = c.acceptedAt[at]!;
    out.indices[i] = c.indices[at]!;
    c.leaves.copy(out.leaves, i * 32, at * 32, at * 32 + 32);
    c.storedHashes.copy(out.storedHashes, i * 32, at * 32, at * 32 + 32);
  });
  return out;
}

export class Written {
  private leader = false;
  private readonly byOrg = new Map<string, EntryBatch[]>();
  private size = 0;
  /** Chunks whose entries share one acceptedAt and come in id order (what one request of the write path gives). */
  private readonly ordered = new WeakSet<EntryBatch>();

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
      const chunk = batchOf(list, 'latin1');
      if (inKeyOrder(chunk)) this.ordered.add(chunk);
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
  after(orgId: string, cursor: SealCursor | undefined, cutoff: string): EntryBatch {
    return this.afterOrdered(orgId, cursor, cutoff) ?? this.afterAny(orgId, cursor, cutoff);
  }

  /**
   * after() a chunk at a time, where every chunk is `ordered` and the chunks handed over do not interleave (the
   * usual case: one acceptedAt per request, ids made in order); undefined otherwise, once the chunks are cut to
   * the cursor (afterAny does the rest).
   */
  private afterOrdered(
    orgId: string,
    cursor: SealCursor | undefined,
    cutoff: string,
  ): EntryBatch | undefined {
    const chunks = this.byOrg.get(orgId) ?? [];
    if (!chunks.every((c) => this.ordered.has(c))) return undefined;
    const kept: EntryBatch[] = [];
    const handed: EntryBatch[] = [];
    for (const c of chunks) {
      const n = c.eventIds.length;
      let from = 0; // the first entry after the cursor: the chunk's entries are in key order
      if (atOrBefore(keyAt(c, 0), cursor)) {
        let lo = 1; // entries before lo are at or before the cursor, entries from hi on after it
        let hi = n;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (atOrBefore(keyAt(c, mid), cursor)) lo = mid + 1;
          else hi = mid;
        }
        from = lo;
      }
      this.size -= from;
      if (from === n) continue;
      const open = from === 0 ? c : sliceBatch(c, from, n);
      if (open !== c) this.ordered.add(open);
      kept.push(open);
      if (
        compareKeys({ acceptedAt: c.acceptedAt[0]!, eventId: '' }, { acceptedAt: cutoff, eventId: '' }) <= 0
      )
        handed.push(open);
    }
    if (kept.length === 0) this.byOrg.delete(orgId);
    else this.byOrg.set(orgId, kept);
    handed.sort((a, b) => compareKeys(keyAt(a, 0), keyAt(b, 0)));
    for (let i = 1; i < handed.length; i++) {
      const before = handed[i - 1]!;
      if (compareKeys(keyAt(before, before.eventIds.length - 1), keyAt(handed[i]!, 0)) >= 0) return undefined;
    }
    // A loop, not flatMap (about fifteen times slower on lists this long) nor concat(...lists) (one argument per
    // request: too many for a call where requests are small).
    const total = handed.reduce((n, c) => n + c.eventIds.length, 0);
    const join = (list: (c: EntryBatch) => string[]) => {
      const out = new Array<string>(total);
      let k = 0;
      for (const c of handed) for (const v of list(c)) out[k++] = v;
      return out;
    };
    return {
      eventIds: join((c) => c.eventIds),
      acceptedAt: join((c) => c.acceptedAt),
      storedHashes: Buffer.concat(handed.map((c) => c.storedHashes)),
      indices: join((c) => c.indices),
      leaves: Buffer.concat(handed.map((c) => c.leaves)),
    };
  }

  /** after() entry by entry, in any order. */
  private afterAny(orgId: string, cursor: SealCursor | undefined, cutoff: string): EntryBatch {
    const chunks = this.byOrg.get(orgId) ?? [];
    const at = { b: [] as number[], k: [] as number[] }; // the entries to hand over, by position in `kept`
    const kept: EntryBatch[] = [];
    // Keys are compared through two reused objects: no object per entry or comparison.
    const x = { acceptedAt: '', eventId: '' };
    const y = { acceptedAt: cutoff, eventId: '' };
    for (const c of chunks) {
      const open: number[] = [];
      for (let k = 0; k < c.eventIds.length; k++) {
        x.acceptedAt = c.acceptedAt[k]!;
        x.eventId = y.eventId = c.eventIds[k]!;
        if (atOrBefore(x, cursor)) continue;
        open.push(k);
        if (compareKeys(x, y) <= 0) {
          at.b.push(kept.length);
          at.k.push(open.length - 1);
        }
      }
      this.size -= c.eventIds.length - open.length;
      if (open.length === c.eventIds.length) kept.push(c);
      else if (open.length > 0)
        kept.push(
          pick(
            [c],
            open.map(() => 0),
            open,
          ),
        );
    }
    if (kept.length === 0) this.byOrg.delete(orgId);
    else this.byOrg.set(orgId, kept);
    const load = (o: SealCursor, r: number) => {
      const c = kept[at.b[r]!]!;
      o.acceptedAt = c.acceptedAt[at.k[r]!]!;
      o.eventId = c.eventIds[at.k[r]!]!;
      return o;
    };
    // Requests finish about in the order they were accepted: the sort has little to do.
    const order = at.b.map((_, r) => r).sort((r, q) => compareKeys(load(x, r), load(y, q)));
    return pick(
      kept,
      order.map((r) => at.b[r]!),
      order.map((r) => at.k[r]!),
    );
  }

  /** Drops the org's entries: the sealer's walk seals them from the ledger instead. */
  forget(orgId: string): void {
    for (const c of this.byOrg.get(orgId) ?? []) this.size -= c.eventIds.length;
    this.byOrg.delete(orgId);
  }

  private clear(): void {
    this.byOrg.clear();
    this.size = 0;
  }
}
