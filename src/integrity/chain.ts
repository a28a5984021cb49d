/**
 * Checks of a seal chain that need no events: every seq from 1 up is present once, each seal hashes to its
 * `sealHash`, links to its predecessor, is signed by a key of the log that was valid when it was sealed, and
 * agrees with a checkpoint saved earlier. Pure, so it is unit-tested without OpenSearch; verify.ts feeds it the seals it reads.
 */
import { checkpointSignatureValid, sealHashOf, sealSignedInWindow, type Checkpoint } from './checkpoint.ts';
import type { Keyring, RingKey } from './keyring.ts';

export type ProblemKind =
  | 'seal-missing'
  | 'seal-duplicate'
  | 'seal-edited'
  | 'seal-chain-broken'
  | 'seal-foreign-key'
  | 'seal-key-outside-window'
  | 'seal-time-backwards'
  | 'seal-bad-signature'
  | 'seal-lists-edited'
  | 'checkpoint-bad-signature'
  | 'checkpoint-mismatch'
  | 'chain-truncated'
  | 'event-missing'
  | 'event-modified'
  | 'event-not-in-ledger'
  | 'event-misplaced'
  | 'ledger-missing'
  | 'ledger-mismatch'
  | 'sealed-twice'
  | 'unsealed-late'
  | 'unsealed-held'
  | 'tree-head-mismatch'
  | 'tree-head-bad-signature'
  | 'tree-head-key-outside-window'
  | 'witness-fork'
  | 'witness-rollback'
  | 'witness-unreadable';

/** One thing that is wrong, named precisely enough to act on. */
export interface Problem {
  kind: ProblemKind;
  orgId: string;
  seq?: number;
  eventId?: string;
  message: string;
}

/** How far instances' clocks may disagree (they must agree within 1 s; seals carry their sealer's time). */
const CLOCK_SKEW_MS = 5_000;

/** A key's window in words. */
export const windowOf = (k: RingKey) => `[${k.validFrom}, ${k.validUntil ?? 'open'})`;

/** Checks the chain `seals` (sorted by seq; checkpoint fields only) against `ring` and an optional checkpoint. */
export function checkChain(
  orgId: string,
  seals: Checkpoint[],
  ring: Keyring,
  checkpoint?: Checkpoint,
): Problem[] {
  const problems: Problem[] = [];
  const add = (kind: ProblemKind, seq: number | undefined, message: string) =>
    problems.push({ kind, orgId, ...(seq !== undefined ? { seq } : {}), message });
  let expected = 1;
  let prev: Checkpoint | undefined;
  for (const s of seals) {
    if (prev && s.seq === prev.seq) {
      add('seal-duplicate', s.seq, `seal ${s.seq} exists twice (a second document claims the same seq)`);
      continue;
    }
    if (s.seq > expected) {
      const gap = expected === s.seq - 1 ? `seal ${expected} is` : `seals ${expected}–${s.seq - 1} are`;
      add('seal-missing', expected, `${gap} missing from the chain (dropped)`);
      prev = undefined; // the link across the gap cannot be checked; the gap is the finding
    }
    if (sealHashOf(s) !== s.sealHash) {
      add(
        'seal-edited',
        s.seq,
        `seal ${s.seq}: its fields no longer hash to its sealHash ${short(s.sealHash)} (edited)`,
      );
    }
    if (s.seq === 1 && s.prevSealHash !== null) {
      add(
        'seal-chain-broken',
        1,
        `seal 1 links to a predecessor (${short(s.prevSealHash)}); the first seal has none`,
      );
    } else if (prev && s.prevSealHash !== prev.sealHash) {
      add(
        'seal-chain-broken',
        s.seq,
        `seal ${s.seq}: prevSealHash ${short(s.prevSealHash)} is not the sealHash ${short(prev.sealHash)} of seal ` +
          `${prev.seq} (seals reordered, replaced or rewritten)`,
      );
    }
    // Seals are made in order: one sealed before its predecessor (beyond the instances' clock skew) was
    // back-dated, e.g. into a retired key's window.
    if (prev && Date.parse(s.sealedAt) < Date.parse(prev.sealedAt) - CLOCK_SKEW_MS)
      add(
        'seal-time-backwards',
        s.seq,
        `seal ${s.seq} says it was sealed at ${s.sealedAt}, before seal ${prev.seq} (${prev.sealedAt}): back-dated`,
      );
    const key = ring.find(s.keyId);
    if (!key) {
      add(
        'seal-foreign-key',
        s.seq,
        `seal ${s.seq} is signed with key ${s.keyId}, not one of the log's keys ${ring.keys.map((k) => k.keyId).join(', ')} (re-signed)`,
      );
    } else if (!checkpointSignatureValid(s, key)) {
      add(
        'seal-bad-signature',
        s.seq,
        `seal ${s.seq}: the signature does not verify under key ${key.keyId} (forged or edited)`,
      );
    } else if (!ring.validKey(s.keyId, s.sealedAt)) {
      add(
        'seal-key-outside-window',
        s.seq,
        `seal ${s.seq} was signed at ${s.sealedAt} by key ${key.keyId}, valid only ${windowOf(key)} (a retired key signed it)`,
      );
    }
    prev = s;
    expected = s.seq + 1;
  }

  if (checkpoint) {
    const where = `the checkpoint of seal ${checkpoint.seq} (saved from ${checkpoint.sealedAt})`;
    if (checkpoint.orgId !== orgId) {
      add('checkpoint-mismatch', checkpoint.seq, `${where} belongs to org ${checkpoint.orgId}, not ${orgId}`);
    } else if (!sealSignedInWindow(checkpoint, ring)) {
      add(
        'checkpoint-bad-signature',
        checkpoint.seq,
        `${where} is not signed by a key of the log valid at ${checkpoint.sealedAt} (signed by ${checkpoint.keyId}); it proves nothing`,
      );
    } else {
      const s = seals.find((x) => x.seq === checkpoint.seq);
      if (!s) {
        const last = seals[seals.length - 1]?.seq ?? 0;
        add(
          checkpoint.seq > last ? 'chain-truncated' : 'seal-missing',
          checkpoint.seq,
          checkpoint.seq > last
            ? `${where}: the chain now ends at seal ${last}; seals after it were removed`
            : `${where}: seal ${checkpoint.seq} no longer exists`,
        );
      } else if (
        s.sealHash !== checkpoint.sealHash ||
        s.root !== checkpoint.root ||
        s.count !== checkpoint.count
      ) {
        add(
          'checkpoint-mismatch',
          s.seq,
          `history rewritten: seal ${s.seq} now has sealHash ${short(s.sealHash)}, root ${short(s.root)}, count ` +
            `${s.count}; ${where} says ${short(checkpoint.sealHash)}, ${short(checkpoint.root)}, ${checkpoint.count}`,
        );
      }
    }
  }
  return problems;
}

export function short(hash: string | null | undefined): string {
  return hash ? `${hash.slice(0, 12)}…` : 'null';
}
