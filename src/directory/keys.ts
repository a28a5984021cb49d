/**
 * API key secrets. A key reads `alk_<id>_<secret>`: the id finds the stored record in one GET, the secret is
 * checked against its SHA-256 hash in constant time. Only the hash is stored; the key is shown once.
 */
import crypto from 'node:crypto';

export type { ApiKeyRecord, KeyKind } from '../store/directory-records.ts';

const KEY_RE = /^alk_([a-z0-9]{16})_([A-Za-z0-9_-]{43})$/;

export function generateKey(): { id: string; secret: string; key: string; hash: string } {
  const id = crypto.randomBytes(8).toString('hex');
  const secret = crypto.randomBytes(32).toString('base64url');
  return { id, secret, key: `alk_${id}_${secret}`, hash: hashSecret(secret) };
}

export function parseKey(key: string): { id: string; secret: string } | undefined {
  const m = KEY_RE.exec(key);
  return m ? { id: m[1]!, secret: m[2]! } : undefined;
}

export function hashSecret(secret: string): string {
  return crypto.createHash('sha256').update(secret).digest('hex');
}

export function secretMatches(secret: string, hash: string): boolean {
  const a = Buffer.from(hashSecret(secret), 'hex');
  const b = Buffer.from(hash, 'hex');
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

/** Constant-time comparison of two tokens of any length (the operator token). */
export function tokensEqual(given: string, expected: string): boolean {
  const a = crypto.createHash('sha256').update(given).digest();
  const b = crypto.createHash('sha256').update(expected).digest();
  return crypto.timingSafeEqual(a, b);
}
