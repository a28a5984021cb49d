/**
 * The seal document (index INTERNAL.seals, `_id` = sealId(orgId, seq)): the signed checkpoint of a seal, the
 * lists proofs and verification need, the sealer's bookkeeping, and how the lists are packed as stored. How a
 * seal is hashed, chained and signed is told in src/integrity/checkpoint.ts.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { SealCursor } from './ledger-store.ts';
import { InvariantViolation } from '../errors.ts';
import { orgRecordId } from './names.ts';

const Hex64 = Type.String({ pattern: '^[0-9a-f]{64}$' });
const Iso = Type.String({ minLength: 20, maxLength: 40 });

export const SealCore = Type.Object(
  {
    orgId: Type.String({ minLength: 1 }),
    seq: Type.Integer({ minimum: 1 }),
    count: Type.Integer({ minimum: 1 }),
    firstAcceptedAt: Iso,
    lastAcceptedAt: Iso,
    root: Hex64,
    prevSealHash: Type.Union([Hex64, Type.Null()]),
    sealedAt: Iso,
  },
  { additionalProperties: false },
);
export type SealCore = Static<typeof SealCore>;

export const Checkpoint = Type.Object(
  {
    ...SealCore.properties,
    sealHash: Hex64,
    keyId: Type.String({ pattern: '^[0-9a-f]{16}$' }),
    signature: Type.String({ minLength: 1 }),
  },
  { additionalProperties: false },
);
/** What the checkpoints API returns and what a SIEM saves. */
export type Checkpoint = Static<typeof Checkpoint>;

/**
 * A seal as read (unpackSeal): its checkpoint and, in leaf order, the event ids, hex leaves and hex storedHashes.
 * Besides the lists, the sealer keeps its own bookkeeping there, outside the signature
 * (src/integrity/ledger.ts): `cursor`, how far its walk of the ledger has got; `skipped`, entries the walk
 * passed while their event was missing (marked `waiting`); `late`, set on a seal of such entries.
 * Verification never trusts these: it checks every ledger entry against the lists.
 */
export type Seal = SealHead & { leaves: string[]; storedHashes: string[] };

/** A seal without its leaves and storedHashes: what the sealer needs of the newest seal to go on. */
export type SealHead = Checkpoint & {
  eventIds: string[];
  cursor?: SealCursor;
  skipped?: string[];
  late?: boolean;
};

/**
 * A seal document in `audit-internal-seals` (`_id` = sealId(orgId, seq)): the seal with its lists packed, as
 * OpenSearch parses and stores a seal per batch of up to 10,000 events — `packedLeaves` and
 * `packedStoredHashes`, the 32-byte leaves and storedHashes in a row, base64 (one JSON string each, not 10,000
 * values). Seals written before packedStoredHashes have `storedHashRuns`, [storedHash, how many leaves in a row
 * have it] (events stored before salts shared theirs within a request); both are read. `dayRuns`, [day index,
 * how many events in a row are in it], says where the events are, so that a stream reads them without their
 * ledger entries; it is not signed (a wrong one only sends a reader to the ledger), and older seals lack it.
 */
export type SealDoc = SealHead & {
  packedLeaves: string;
  packedStoredHashes?: string;
  storedHashRuns?: [string, number][];
  dayRuns?: [string, number][];
};

/** Runs of equal values in a row, [value, how many]. */
function runsOf(values: string[]): [string, number][] {
  const runs: [string, number][] = [];
  for (const v of values) {
    const last = runs[runs.length - 1];
    if (last && last[0] === v) last[1]++;
    else runs.push([v, 1]);
  }
  return runs;
}

/** The day index of each of a seal's events, from its `dayRuns`; undefined when it has none or they do not fit. */
export function dayIndicesOf(doc: Pick<SealDoc, 'dayRuns' | 'eventIds'>): string[] | undefined {
  if (!Array.isArray(doc.dayRuns)) return undefined;
  const out: string[] = [];
  for (const run of doc.dayRuns) {
    const [index, n] = Array.isArray(run) ? run : [];
    if (
      typeof index !== 'string' ||
      !Number.isSafeInteger(n) ||
      n! < 1 ||
      out.length + n! > doc.eventIds.length
    )
      return undefined;
    for (let k = 0; k < n!; k++) out.push(index);
  }
  return out.length === doc.eventIds.length ? out : undefined;
}

/**
 * The seal document of a seal whose leaves are packed in a row (32 bytes each), its storedHashes likewise, and
 * the day indices of its events as runs.
 */
export function packSeal(
  seal: SealHead & { leaves: Buffer; storedHashes: Buffer; indices?: string[] },
): SealDoc {
  const { leaves, storedHashes, indices, ...rest } = seal;
  if (storedHashes.length !== leaves.length)
    throw new InvariantViolation(
      `seal ${seal.seq} has ${storedHashes.length / 32} storedHashes for ${leaves.length / 32} leaves`,
    );
  return {
    ...rest,
    packedLeaves: leaves.toString('base64'),
    packedStoredHashes: storedHashes.toString('base64'),
    ...(indices ? { dayRuns: runsOf(indices) } : {}),
  };
}

/** 32-byte hashes packed in a row, as hex (a trailing part, which only an edit can leave, as a short string). */
function unpackHashes(packed: unknown): string[] {
  const bytes = Buffer.from(typeof packed === 'string' ? packed : '', 'base64');
  const out: string[] = [];
  for (let at = 0; at < bytes.length; at += 32) out.push(bytes.toString('hex', at, at + 32));
  return out;
}

/** A seal from its document, lists unpacked (an edited packing reads back as lists that fail verification). */
export function unpackSeal(doc: SealDoc): Seal {
  const { packedLeaves, packedStoredHashes, storedHashRuns, dayRuns: _, ...rest } = doc;
  const leaves = unpackHashes(packedLeaves);
  if (packedStoredHashes !== undefined)
    return { ...rest, leaves, storedHashes: unpackHashes(packedStoredHashes) };
  const storedHashes: string[] = [];
  for (const [hash, n] of Array.isArray(storedHashRuns) ? storedHashRuns : [])
    for (let k = 0; k < n && storedHashes.length <= rest.count; k++) storedHashes.push(hash);
  return { ...rest, leaves, storedHashes };
}

/** Seal ids sort by seq: `<org>:<seq, 12 digits>` (orgRecordId). */
export function sealId(orgId: string, seq: number): string {
  return orgRecordId(orgId, String(seq).padStart(12, '0'));
}
