/**
 * What a leaf of the Merkle tree commits to. A leaf covers every stored field of an event, yet can be
 * recomputed by someone who holds only the API output (the twelve public fields) plus `storedHash`:
 *
 *   storedHash = SHA-256(JCS({ orgId, ipAddress, userAgent, acceptedAt, salt }))
 *   leaf       = SHA-256(0x00 ‖ UTF-8(JCS(entry)) ‖ storedHash)       (storedHash as 32 raw bytes)
 *
 * `salt` is a secret random value per event, stored with it and never returned: a proof gives storedHash, so
 * without it the IP address and user agent could be found by trying the few likely values. Events stored
 * before salts existed have none, and their storedHash is the same formula without the `salt` key.
 * JCS is RFC 8785 JSON canonicalization, so any implementation of it gets the same bytes. The 0x00 prefix
 * (0x01 for inner nodes, see merkle.ts) keeps a leaf from posing as an inner node, as in RFC 6962.
 */
import crypto from 'node:crypto';
import canonicalize from 'canonicalize';
import type { AuditEntry, StoredEvent } from '../events/schema.ts';
import { InvariantViolation } from '../errors.ts';

export const LEAF_PREFIX = 0x00;
export const NODE_PREFIX = 0x01;

/** RFC 8785 canonical JSON. */
export function canonical(value: unknown): string {
  const s = canonicalize(value);
  if (s === undefined)
    throw new InvariantViolation('value cannot be canonicalized (undefined or a function)');
  return s;
}

/** SHA-256 of the parts in a row: in one call where Node has crypto.hash (≥ 20.12, no Hash object per call). */
export function sha256(...parts: (Buffer | string)[]): Buffer {
  if (oneShot) {
    const data =
      parts.length === 1
        ? parts[0]!
        : Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
    return oneShot('sha256', data, 'buffer');
  }
  const h = crypto.createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
}

/**
 * SHA-256 of `data` written into `out` at `at`. Where Node has crypto.hash, the digest comes back as a latin1
 * string (one byte per character) and is written over: a short string costs far less to make than a Buffer
 * (the Merkle tree makes one per inner node).
 */
export function sha256Into(data: Buffer, out: Buffer, at: number): void {
  if (oneShot) out.write(oneShot('sha256', data, 'latin1'), at, 32, 'latin1');
  else crypto.createHash('sha256').update(data).digest().copy(out, at);
}

/** SHA-256 of `data` as 32 characters, one per byte (latin1): a short string costs far less than a Buffer. */
export function sha256Latin1(data: Buffer): string {
  return oneShot ? oneShot('sha256', data, 'latin1') : sha256(data).toString('latin1');
}

const oneShot = (
  crypto as {
    hash?: {
      (alg: string, data: string | Buffer, enc: 'buffer'): Buffer;
      (alg: string, data: string | Buffer, enc: 'hex' | 'latin1'): string;
    };
  }
).hash;

/**
 * The stored-only fields no read returns, as they are hashed (absent values are null, times ISO UTC; no
 * `salt` key for an event stored without one).
 */
export function storedFields(doc: StoredEvent): {
  orgId: string;
  ipAddress: string | null;
  userAgent: string | null;
  acceptedAt: string;
  salt?: string;
} {
  return {
    orgId: doc.orgId,
    ipAddress: doc.ipAddress ?? null,
    userAgent: doc.userAgent ?? null,
    acceptedAt: new Date(doc.acceptedAt).toISOString(),
    ...(doc.salt === undefined ? {} : { salt: doc.salt }),
  };
}

/** Random bytes drawn in blocks: one draw per salt costs about ten times as much. */
const saltPool = Buffer.alloc(4096);
let saltAt = saltPool.length;

/** A new event's salt: 16 random bytes, base64url (22 characters). */
export function newSalt(): string {
  if (saltAt === saltPool.length) {
    crypto.randomFillSync(saltPool);
    saltAt = 0;
  }
  saltAt += 16;
  return saltPool.toString('base64url', saltAt - 16, saltAt);
}

/** Hex SHA-256 of the canonical stored-only fields. */
export function storedHashOf(doc: StoredEvent): string {
  return sha256(canonical(storedFields(doc))).toString('hex');
}

/** Hex leaf hash of an entry as the API returns it and the hex storedHash. */
export function leafHashOf(entry: AuditEntry, storedHashHex: string): string {
  const stored = Buffer.from(storedHashHex, 'hex');
  if (stored.length !== 32) throw new InvariantViolation('storedHash must be 64 hex characters');
  return sha256(Buffer.from([LEAF_PREFIX]), canonical(entry), stored).toString('hex');
}
