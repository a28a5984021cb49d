/**
 * Page cursors. A cursor is `c1.<payload>.<mac>` (URL-safe base64): the payload holds the sort values of the
 * last entry of the page (`[createdAt epoch ms, id]`, the `search_after` key); the mac is an HMAC-SHA256 over
 * the version, the payload and a fingerprint of the query (scope + normalized filters). So a cursor that was
 * forged, truncated, edited, or issued for another query or another org fails verification and is a 400 —
 * never a silent first page. `limit` is not bound: a client may change the page size between pages.
 */
import crypto from 'node:crypto';
import canonicalize from 'canonicalize';
import type { Config } from '../config.ts';
import { ID_PATTERN } from '../events/schema.ts';
import { errors } from '../http/errors.ts';
import { loadOrCreateSecret } from '../store/secrets.ts';
import type { ListFilters } from './params.ts';
import type { ReadScope } from '../directory/access.ts';

const VERSION = 'c1';
const ID_RE = new RegExp(ID_PATTERN);

/** The `search_after` key of an entry: `[createdAt epoch ms, id]`. */
export type SortKey = [number, string];

/** The configured cursor secret, else one generated at first start and kept in the state dir. */
export function cursorSecret(cfg: Pick<Config, 'cursorSecret' | 'stateDir'>): string {
  return (
    cfg.cursorSecret ??
    loadOrCreateSecret(cfg.stateDir, 'cursor-secret', () => crypto.randomBytes(32).toString('hex'))
  );
}

/** A stable digest of what a query asks for, so a cursor only continues the query that issued it. */
export function queryFingerprint(filters: ListFilters, scope: ReadScope): string {
  const normal = {
    scope: { orgId: scope.orgId, workspaceId: scope.workspaceId ?? null },
    filters: { ...filters, start: filters.start?.toISOString(), end: filters.end?.toISOString() },
  };
  return crypto.createHash('sha256').update(canonicalize(normal)!).digest('base64url');
}

function mac(secret: string, version: string, payload: string, fingerprint: string): Buffer {
  return crypto.createHmac('sha256', secret).update(`${version}.${payload}.${fingerprint}`).digest();
}

/**
 * The generic codec under every cursor (list pages here, the SIEM stream in stream/): any JSON value as an
 * opaque `<version>.<payload>.<mac>` token bound to a query fingerprint. Each kind of cursor has its own
 * version prefix, so one kind can never be passed off as another.
 */
export function signToken(secret: string, version: string, value: unknown, fingerprint: string): string {
  const payload = Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${version}.${payload}.${mac(secret, version, payload, fingerprint).toString('base64url')}`;
}

/** The value inside a token this server signed with `version` for `fingerprint`; else 400 `invalid_cursor`. */
export function verifyToken(secret: string, version: string, token: string, fingerprint: string): unknown {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== version) throw errors.invalidCursor();
  const [, payload, sig] = parts as [string, string, string];
  const given = Buffer.from(sig, 'base64url');
  const expected = mac(secret, version, payload, fingerprint);
  // base64url decoding ignores stray characters, so also require the canonical spelling of the mac.
  if (
    given.length !== expected.length ||
    !crypto.timingSafeEqual(given, expected) ||
    sig !== expected.toString('base64url')
  ) {
    throw errors.invalidCursor();
  }
  try {
    return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw errors.invalidCursor();
  }
}

export function encodeCursor(secret: string, key: SortKey, fingerprint: string): string {
  return signToken(secret, VERSION, key, fingerprint);
}

/** The sort key a cursor carries; throws 400 `invalid_cursor` unless this server issued it for this query. */
export function decodeCursor(secret: string, cursor: string, fingerprint: string): SortKey {
  const key = verifyToken(secret, VERSION, cursor, fingerprint);
  if (
    !Array.isArray(key) ||
    key.length !== 2 ||
    !Number.isSafeInteger(key[0]) ||
    typeof key[1] !== 'string' ||
    !ID_RE.test(key[1])
  ) {
    throw errors.invalidCursor();
  }
  return key as SortKey;
}
