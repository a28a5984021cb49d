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

/** An event's leaf and storedHash, hex. */
export type EventHashes = { leaf: string; storedHash: string };
/** ... and the stored event as JSON (leafAndJsonOf). */
export type HashedEvent = EventHashes & { json: string };

/**
 * The leaf of a stored event, with the storedHash that goes with it. The write path computes it for every
 * event, so the two canonical forms are written out directly (their key order is fixed) instead of through
 * the generic `canonical`; a unit test holds them to the same bytes, and verification recomputes leaves with
 * the generic form, so any difference would show as a modified event.
 */
export function leafOfEvent(doc: StoredEvent): EventHashes {
  const { leaf, storedHash } = leafAndJsonOf(doc);
  return { leaf, storedHash };
}

/**
 * leafOfEvent, and the stored event as JSON made of the same canonical text (the stored-only fields, then the
 * entry's): what the write path sends to OpenSearch, so with sealing on each event is serialized once, not
 * once for its leaf and again for the store. Every field of `doc`, with its value as validation left it.
 */
export function leafAndJsonOf(doc: StoredEvent): HashedEvent {
  const stored = storedOf(doc);
  const entry =
    `{"action":${str(doc.action)},"actorEmail":${str(doc.actorEmail)},"actorId":${str(doc.actorId)},` +
    `"actorName":${str(doc.actorName)},"createdAt":${str(createdIso.of(doc.createdAt))},` +
    `"description":${str(doc.description)},"id":${str(doc.id)},"metadata":${canonicalValue(doc.metadata ?? {})},` +
    `"resourceId":${str(doc.resourceId)},"resourceName":${str(doc.resourceName)},` +
    `"resourceType":${str(doc.resourceType)},"workspaceId":${str(doc.workspaceId)}}`;
  return {
    leaf: leafOf(entry, stored.bytes),
    storedHash: stored.hex,
    json: stored.jsonHead + entry.slice(1),
  };
}

/**
 * The last input and output of a pure function. The events of one request share their acceptedAt, usually
 * their createdAt: each is converted once per request, not once per event.
 */
class LastOf<T> {
  private lastIn: string | undefined;
  private lastOut: T | undefined;
  constructor(private readonly fn: (s: string) => T) {}
  of(s: string): T {
    if (s !== this.lastIn) {
      this.lastOut = this.fn(s);
      this.lastIn = s;
    }
    return this.lastOut!;
  }
}

const toIso = (s: string) => new Date(s).toISOString();
const acceptedIso = new LastOf(toIso);
const createdIso = new LastOf(toIso);

/**
 * The SHA-256 of an event's canonical stored-only fields, as bytes and hex, and that text as the head of the
 * whole event's JSON (without its closing brace: `{"acceptedAt":…,"userAgent":…,`).
 */
function storedOf(doc: StoredEvent): { jsonHead: string; bytes: Buffer; hex: string } {
  const salt = doc.salt === undefined ? '' : `"salt":${str(doc.salt)},`;
  const text =
    `{"acceptedAt":${str(acceptedIso.of(doc.acceptedAt))},"ipAddress":${str(doc.ipAddress)},` +
    `"orgId":${str(doc.orgId)},${salt}"userAgent":${str(doc.userAgent)}}`;
  const bytes = sha256(text);
  return { jsonHead: `${text.slice(0, -1)},`, bytes, hex: bytes.toString('hex') };
}

/** One buffer the leaf's bytes are written into (0x00 ‖ entry ‖ storedHash), grown when an entry needs more. */
let scratch = Buffer.alloc(16 * 1024);

function leafOf(entry: string, stored: Buffer): string {
  if (!oneShot) return sha256(LEAF_PREFIX_BYTES, entry, stored).toString('hex');
  const most = 1 + entry.length * 3 + stored.length; // UTF-8 takes at most 3 bytes per UTF-16 unit
  if (scratch.length < most) scratch = Buffer.alloc(most);
  scratch[0] = LEAF_PREFIX;
  const n = 1 + scratch.write(entry, 1, 'utf8');
  stored.copy(scratch, n);
  return oneShot('sha256', scratch.subarray(0, n + stored.length), 'hex');
}

const LEAF_PREFIX_BYTES = Buffer.from([LEAF_PREFIX]);

/** RFC 8785 of a JSON value parsed from a request (no undefined, NaN or lone surrogates: validated). */
function canonicalValue(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonicalValue).join(',')}]`;
  const o = v as Record<string, unknown>;
  let out = '';
  for (const k of Object.keys(o).sort())
    out += `${out ? ',' : ''}${JSON.stringify(k)}:${canonicalValue(o[k])}`;
  return `{${out}}`;
}

/** What JSON.stringify escapes in a string, and surrogates (left to it too): the rest is copied as it is. */
const ESCAPED = /["\\\u0000-\u001f\ud800-\udfff]/;

/** A string or null as RFC 8785 writes it (for strings, exactly JSON.stringify, which most need not be run). */
function str(v: string | null | undefined): string {
  if (v == null) return 'null';
  return ESCAPED.test(v) ? JSON.stringify(v) : `"${v}"`;
}
