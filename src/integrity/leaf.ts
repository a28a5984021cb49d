/**
 * What a leaf of the Merkle tree commits to. A leaf covers every stored field of an event, yet can be
 * recomputed by someone who holds only the API output (the twelve public fields) plus `storedHash`:
 *
 *   storedHash = SHA-256(JCS({ orgId, ipAddress, userAgent, acceptedAt }))
 *   leaf       = SHA-256(0x00 ‖ UTF-8(JCS(entry)) ‖ storedHash)       (storedHash as 32 raw bytes)
 *
 * JCS is RFC 8785 JSON canonicalization, so any implementation of it gets the same bytes. The 0x00 prefix
 * (0x01 for inner nodes, see merkle.ts) keeps a leaf from posing as an inner node, as in RFC 6962.
 */
import crypto from 'node:crypto';
import canonicalize from 'canonicalize';
import { toEntry, type AuditEntry, type StoredEvent } from '../events/schema.ts';

export const LEAF_PREFIX = 0x00;
export const NODE_PREFIX = 0x01;

/** RFC 8785 canonical JSON. */
export function canonical(value: unknown): string {
  const s = canonicalize(value);
  if (s === undefined) throw new Error('value cannot be canonicalized (undefined or a function)');
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

const oneShot = (crypto as { hash?: (alg: string, data: string | Buffer, enc: 'buffer') => Buffer }).hash;

/** The stored-only fields no read returns, as they are hashed (absent values are null, times ISO UTC). */
export function storedFields(doc: StoredEvent): {
  orgId: string;
  ipAddress: string | null;
  userAgent: string | null;
  acceptedAt: string;
} {
  return {
    orgId: doc.orgId,
    ipAddress: doc.ipAddress ?? null,
    userAgent: doc.userAgent ?? null,
    acceptedAt: new Date(doc.acceptedAt).toISOString(),
  };
}

/** Hex SHA-256 of the canonical stored-only fields. */
export function storedHashOf(doc: StoredEvent): string {
  return sha256(canonical(storedFields(doc))).toString('hex');
}

/** Hex leaf hash of an entry as the API returns it and the hex storedHash. */
export function leafHashOf(entry: AuditEntry, storedHashHex: string): string {
  const stored = Buffer.from(storedHashHex, 'hex');
  if (stored.length !== 32) throw new Error('storedHash must be 64 hex characters');
  return sha256(Buffer.from([LEAF_PREFIX]), canonical(entry), stored).toString('hex');
}

/**
 * The leaf of a stored event, with the storedHash that goes with it. The write path computes it for every
 * event, so the two canonical forms are written out directly (their key order is fixed) instead of through
 * the generic `canonical`; a unit test holds them to the same bytes, and verification recomputes leaves with
 * the generic form, so any difference would show as a modified event.
 */
export function leafOfEvent(doc: StoredEvent): { leaf: string; storedHash: string } {
  const stored = sha256(
    `{"acceptedAt":${str(new Date(doc.acceptedAt).toISOString())},"ipAddress":${str(doc.ipAddress)},` +
      `"orgId":${str(doc.orgId)},"userAgent":${str(doc.userAgent)}}`,
  );
  const entry =
    `{"action":${str(doc.action)},"actorEmail":${str(doc.actorEmail)},"actorId":${str(doc.actorId)},` +
    `"actorName":${str(doc.actorName)},"createdAt":${str(new Date(doc.createdAt).toISOString())},` +
    `"description":${str(doc.description)},"id":${str(doc.id)},"metadata":${canonicalValue(doc.metadata ?? {})},` +
    `"resourceId":${str(doc.resourceId)},"resourceName":${str(doc.resourceName)},` +
    `"resourceType":${str(doc.resourceType)},"workspaceId":${str(doc.workspaceId)}}`;
  const leaf = sha256(LEAF_PREFIX_BYTES, entry, stored);
  return { leaf: leaf.toString('hex'), storedHash: stored.toString('hex') };
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

/** A string or null as RFC 8785 writes it (for strings, exactly JSON.stringify). */
function str(v: string | null | undefined): string {
  return v == null ? 'null' : JSON.stringify(v);
}
