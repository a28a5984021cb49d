/**
 * Signed tokens: the codec under every cursor the API hands out (list pages, the SIEM stream, checkpoint
 * pages). A token is `<version>.<payload>.<mac>` (URL-safe base64): the payload is any JSON value; the mac is
 * an HMAC-SHA256 over the version, the payload and a fingerprint of what the token is for (scope and filters).
 * So a token that was forged, truncated, edited, or issued for another query or another org fails
 * verification. Each kind of token has its own version prefix, so one kind can never be passed off as another.
 */
import crypto from 'node:crypto';
import canonicalize from 'canonicalize';
import type { Config } from './config.ts';
import { InvalidCursor } from './errors.ts';
import { loadOrCreateSecret } from './store/secrets.ts';

/** The configured cursor secret, else one generated at first start and kept in the state dir. */
export function cursorSecret(cfg: Pick<Config, 'cursorSecret' | 'stateDir'>): string {
  return (
    cfg.cursorSecret ??
    loadOrCreateSecret(cfg.stateDir, 'cursor-secret', () => crypto.randomBytes(32).toString('hex'))
  );
}

/** A stable digest of a JSON value (canonical form, so key order does not matter): a token's fingerprint. */
export function fingerprintOf(value: unknown): string {
  return crypto.createHash('sha256').update(canonicalize(value)!).digest('base64url');
}

function mac(secret: string, version: string, payload: string, fingerprint: string): Buffer {
  return crypto.createHmac('sha256', secret).update(`${version}.${payload}.${fingerprint}`).digest();
}

export function signToken(secret: string, version: string, value: unknown, fingerprint: string): string {
  const payload = Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${version}.${payload}.${mac(secret, version, payload, fingerprint).toString('base64url')}`;
}

/**
 * The value inside a token this server signed with `version` for `fingerprint`, if `valid` accepts it;
 * else InvalidCursor (400 `invalid_cursor`).
 */
export function verifyToken<T>(
  secret: string,
  version: string,
  token: string,
  fingerprint: string,
  valid: (value: unknown) => value is T,
): T {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== version) throw new InvalidCursor();
  const [, payload, sig] = parts as [string, string, string];
  const given = Buffer.from(sig, 'base64url');
  const expected = mac(secret, version, payload, fingerprint);
  // base64url decoding ignores stray characters, so also require the canonical spelling of the mac.
  if (
    given.length !== expected.length ||
    !crypto.timingSafeEqual(given, expected) ||
    sig !== expected.toString('base64url')
  ) {
    throw new InvalidCursor();
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursor();
  }
  if (!valid(value)) throw new InvalidCursor();
  return value;
}
