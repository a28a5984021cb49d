/**
 * Making a seal, and the marks it implies in the ledger: entries a walk seal skipped are marked `waiting`,
 * entries of a late seal `sealed` with its seq and leaf. A sealer that dies between the two leaves the marks to
 * repairMarks, which the next round runs on the newest seal before anything else.
 */
import { countMarkedWith, getEntries, markEntries } from '../../store/ledger-store.ts';
import { createSeal as createSealDoc } from '../../store/seal-store.ts';
import { packSeal, signCheckpoint, type SealHead } from '../checkpoint.ts';
import { merkleRootOf } from '../merkle.ts';
import type { EntryBatch } from '../written.ts';
import { TREE_SEALS_PER_ROUND, type Sealing } from './sealer-context.ts';

/** Creates the next seal of the org over a batch of entries in key order (their first and last set its span). */
export async function createSeal(
  s: Sealing,
  orgId: string,
  batch: EntryBatch,
  head: SealHead | undefined,
  extra: Pick<SealHead, 'cursor' | 'skipped' | 'late'>,
): Promise<SealHead | undefined> {
  const { eventIds, acceptedAt, storedHashes, indices, leaves } = batch;
  const iso = (at: string) => new Date(at).toISOString();
  const seq = (head?.seq ?? 0) + 1;
  const sealedAt = new Date().toISOString();
  const checkpoint = signCheckpoint(
    {
      orgId,
      seq,
      count: eventIds.length,
      firstAcceptedAt: iso(acceptedAt[0]!),
      lastAcceptedAt: iso(acceptedAt[acceptedAt.length - 1]!),
      root: merkleRootOf(leaves).toString('hex'),
      prevSealHash: head?.sealHash ?? null,
      sealedAt,
    },
    s.keys.get().signers(sealedAt)[0]!,
  );
  const seal: SealHead = { ...checkpoint, eventIds, ...extra };
  // Created under its seq: false when another sealer took that seq.
  if (!(await createSealDoc(s.ctx.store, packSeal({ ...seal, leaves, storedHashes, indices }))))
    return undefined;
  const made = s.made.get(orgId) ?? s.made.set(orgId, new Map()).get(orgId)!;
  if (made.size < TREE_SEALS_PER_ROUND) made.set(seq, { ...checkpoint, ...extra, packed: leaves });
  return seal;
}

/** Marks entries the walk passed without their event as waiting for a late seal (404: released meanwhile). */
export async function markWaiting(s: Sealing, eventIds: string[], orgId: string, refresh = false) {
  await markEntries(
    s.ctx.store,
    orgId,
    eventIds.map((eventId) => [eventId, { waiting: true }]),
    refresh,
    'as waiting',
  );
}

/** Marks the entries of a late seal with their seal and leaf. */
export async function markLate(s: Sealing, seal: SealHead): Promise<void> {
  await markEntries(
    s.ctx.store,
    seal.orgId,
    seal.eventIds.map((eventId, leaf) => [eventId, { sealed: true, seal: { seq: seal.seq, leaf } }]),
    false,
    `as sealed in seal ${seal.seq}`,
  );
}

/** Writes the marks the newest seal implies, when a sealer died between creating it and marking. */
export async function repairMarks(s: Sealing, head: SealHead): Promise<void> {
  if (head.late) {
    if ((await countMarkedWith(s.ctx.store, head.orgId, head.seq)) < head.count) await markLate(s, head);
  }
  if (head.skipped?.length) {
    const docs = await getEntries(s.ctx.store, head.orgId, head.skipped, ['waiting']);
    const unmarked = head.skipped.filter((_, k) => docs[k] && !docs[k]!.waiting);
    if (unmarked.length > 0) await markWaiting(s, unmarked, head.orgId, true);
  }
}
