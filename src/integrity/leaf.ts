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

/**
 * 32 bytes as a string of 32 characters, one per byte (latin1): far cheaper to make and keep than a Buffer.
 * Branded, so that it is never taken for hex.
 */
export type Bytes32 = string & { readonly bytes32: unique symbol };

/** What the write path gets for an event (leafAndJsonOf): its leaf and storedHash as Bytes32, and its JSON. */
export type HashedEvent = { leaf: Bytes32; storedHash: Bytes32; json: string };

/** Bytes32 as hex. */
export const hexOf = (b: Bytes32): string => Buffer.from(b, 'latin1').toString('hex');

/**
 * The leaf of a stored event, with the storedHash that goes with it. The write path computes it for every
 * event (leafAndJsonOf), so the two canonical forms are made by JSON.stringify of objects whose keys are in JCS
 * order, not through the generic `canonical`; a unit test holds them to the same bytes, and verification
 * recomputes leaves with the generic form, so any difference would show as a modified event.
 */
export function leafOfEvent(doc: StoredEvent): EventHashes {
  const { leaf, storedHash } = leafAndJsonOf(doc);
  return { leaf: hexOf(leaf), storedHash: hexOf(storedHash) };
}

/**
 * leafOfEvent, and the stored event as JSON made of the same canonical text (the stored-only fields, then the
 * entry's): what the write path sends to OpenSearch, so with sealing on each event is serialized once, not
 * once for its leaf and again for the store. Every field of `doc`, with its value as validation left it.
 */
export function leafAndJsonOf(doc: StoredEvent): HashedEvent {
  const metadata = doc.metadata ?? {};
  const sortedMetadata = inJcsOrder(metadata);
  // The keys of both canonical forms, one after the other, each in JCS order (sorted); `salt` is left out
  // when undefined, as storedFields leaves it out.
  const fields = {
    acceptedAt: acceptedIso.of(doc.acceptedAt),
    ipAddress: doc.ipAddress ?? null,
    orgId: doc.orgId,
    salt: doc.salt,
    userAgent: doc.userAgent ?? null,
    action: doc.action,
    actorEmail: doc.actorEmail ?? null,
    actorId: doc.actorId ?? null,
    actorName: doc.actorName ?? null,
    createdAt: createdIso.of(doc.createdAt),
    description: doc.description ?? null,
    id: doc.id,
    metadata: sortedMetadata ?? metadata,
    resourceId: doc.resourceId ?? null,
    resourceName: doc.resourceName ?? null,
    resourceType: doc.resourceType,
    workspaceId: doc.workspaceId ?? null,
  };
  let json: string;
  if (sortedMetadata !== undefined)
    json = JSON.stringify(fields); // keys as added: canonical here
  else {
    const { acceptedAt: _a, ipAddress: _i, orgId: _o, salt: _s, userAgent: _u, ...entry } = fields;
    json = `${canonical(storedFields(doc)).slice(0, -1)},${canonical(entry).slice(1)}`;
  }
  return hashedJson(json);
}

/**
 * Where the stored-only fields end and the entry's begin in leafAndJsonOf's JSON: its first match is the key,
 * as a quote inside a JSON string is always escaped.
 */
const ENTRY_START = ',"action":';

/**
 * An event's JSON as leafAndJsonOf makes it, with its storedHash and leaf. The JSON is written once as UTF-8 into
 * a scratch buffer: the stored-only fields are its bytes up to ENTRY_START, closed by `}`; the entry is the
 * rest, opened by `{`; both hashes are taken in place.
 */
function hashedJson(json: string): HashedEvent {
  const k = json.indexOf(ENTRY_START);
  if (k < 1) throw new InvariantViolation('an event without its action cannot be hashed');
  const most = json.length * 3 + 32; // UTF-8 takes at most 3 bytes per UTF-16 unit
  if (scratch.length < most) scratch = Buffer.alloc(most);
  const end = scratch.write(json, 0, 'utf8');
  const comma = end === json.length ? k : Buffer.byteLength(json.slice(0, k));
  scratch[comma] = 0x7d; // }
  const storedHash = digest(scratch.subarray(0, comma + 1));
  scratch[comma - 1] = LEAF_PREFIX;
  scratch[comma] = 0x7b; // {
  scratch.write(storedHash, end, 32, 'latin1');
  return { leaf: digest(scratch.subarray(comma - 1, end + 32)), storedHash, json };
}

/** One buffer events are written into to be hashed, grown when an event needs more. */
let scratch = Buffer.alloc(16 * 1024);

const digest = (data: Buffer): Bytes32 =>
  (oneShot ? oneShot('sha256', data, 'latin1') : sha256(data).toString('latin1')) as Bytes32;

/** A key JavaScript enumerates before all others, in numeric order (an array index): JCS wants it sorted as text. */
const ARRAY_INDEX = /^(?:0|[1-9][0-9]{0,9})$/;

/**
 * A JSON value whose objects' keys are in JCS order (sorted by UTF-16 units) at every level, so JSON.stringify
 * writes it canonically: the value itself when it already is, else a copy; undefined when a key looks like an
 * array index (JavaScript would enumerate it first whatever the order it was added in).
 */
function inJcsOrder(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < v.length; i++) {
      const x = inJcsOrder(v[i]);
      if (x === undefined) return undefined;
      if (x !== v[i]) (copy ??= v.slice())[i] = x;
    }
    return copy ?? v;
  }
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  let sorted = true;
  for (let i = 0; i < keys.length; i++) {
    if (ARRAY_INDEX.test(keys[i]!)) return undefined;
    if (i > 0 && keys[i - 1]! > keys[i]!) sorted = false;
  }
  let copy: Record<string, unknown> | undefined = sorted ? undefined : {};
  for (const k of sorted ? keys : keys.sort()) {
    const x = inJcsOrder(o[k]);
    if (x === undefined) return undefined;
    if (copy) copy[k] = x;
    else if (x !== o[k]) {
      // Sorted, but a nested value needed a copy: so does this object, with the keys before this one.
      copy = {};
      for (const before of keys) {
        if (before === k) break;
        copy[before] = o[before];
      }
      copy[k] = x;
    }
  }
  return copy ?? o;
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
