/**
 * Sealing from memory: the entries this process's write path stored itself (written.ts), proved to be all the
 * ledger holds in their range by counts and sums of id hashes, so that they are never read back.
 */
import { unmarkedTotals } from '../../store/ledger-walk.ts';
import type { SealHead } from '../checkpoint.ts';
import { idHashOf } from '../ledger.ts';
import { keyAt, sliceBatch } from '../written.ts';
import type { OrgResult, Sealing } from './sealer-context.ts';
import { createSeal } from './seal.ts';

/**
 * Seals, batch after batch, the entries this process's write path wrote itself (written.ts), as long as the
 * ledger holds nothing else in a batch's range — the unmarked entries with keys in (cursor, last of the
 * batch] — which one count and sum of id hashes settle: those entries are in the ledger with their events
 * stored, unless a producer's retry re-stamped one (moved it to a later key), so the range holds exactly
 * them when its count and sum are theirs. When it holds more (others' entries), the longest prefix without
 * another is found by bisection (the surplus only grows along the batch) and sealed, and `blockedAt` is the
 * acceptedAt of the first entry of this process after the others: the walk goes that far. When one of its
 * entries is missing, memory proves nothing: the org's entries are forgotten and the walk takes over.
 * `lost`: another sealer took the next seq.
 */
export async function sealWritten(
  s: Sealing,
  orgId: string,
  head: SealHead | undefined,
  cutoff: string,
  out: OrgResult,
): Promise<{ head: SealHead | undefined; blockedAt?: string; lost?: boolean }> {
  const mine = s.ctx.written?.after(orgId, head?.cursor, cutoff);
  const total = mine?.eventIds.length ?? 0;
  if (!mine || total === 0) return { head };
  // The count and id-hash sum of the first n entries of memory, and what the ledger holds in their range.
  const sums = [0];
  for (const id of mine.eventIds) sums.push(sums[sums.length - 1]! + idHashOf(id));
  const ledgerHolds = async (from: number, n: number): Promise<'exactly' | 'more' | 'other'> => {
    const { count, sum } = await unmarkedTotals(s.ctx.store, orgId, head?.cursor, keyAt(mine, from + n - 1));
    if (count === n && sum === sums[from + n]! - sums[from]!) return 'exactly';
    return count > n ? 'more' : 'other';
  };
  const forget = () => {
    s.ctx.written!.forget(orgId);
    return { head };
  };
  // Usually nothing else is there at all: one look for the whole round then, not one per batch.
  const all = await ledgerHolds(0, total);
  if (all === 'other') return forget();
  for (let i = 0; i < total;) {
    const batch = sliceBatch(mine, i, i + s.opts.batchCap);
    const size = batch.eventIds.length;
    let n = size; // how many of the batch, from its start, have nothing else in their range
    const holds = all === 'exactly' ? all : await ledgerHolds(i, n);
    if (holds === 'other') return forget();
    if (holds === 'more') {
      let lo = 0; // the longest prefix known to hold nothing else
      let hi = n - 1; // … is shorter than this
      while (lo < hi) {
        const mid = Math.ceil((lo + hi) / 2);
        const h = await ledgerHolds(i, mid);
        if (h === 'other') return forget();
        if (h === 'exactly') lo = mid;
        else hi = mid - 1;
      }
      n = lo;
    }
    if (n > 0) {
      const seal = await createSeal(s, orgId, sliceBatch(batch, 0, n), head, {
        cursor: keyAt(batch, n - 1),
      });
      if (!seal) return { head, lost: true };
      out.sealed.push({ orgId, seq: seal.seq, count: seal.count });
      head = seal;
    }
    if (n < size) return { head, blockedAt: batch.acceptedAt[n]! };
    i += n;
  }
  return { head };
}
