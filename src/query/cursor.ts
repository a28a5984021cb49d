/**
 * List page cursors: `c1.<payload>.<mac>` (the signed-token codec of src/tokens.ts). The payload holds the sort
 * values of the last entry of the page (`[createdAt epoch ms, id]`, the `search_after` key); the token is bound
 * to a fingerprint of the query (scope + normalized filters), so a cursor used with other filters or another
 * org is a 400 — never a silent first page. `limit` is not bound: a client may change the page size between
 * pages.
 */
import type { ReadScope } from '../directory/access.ts';
import { ID_PATTERN } from '../events/schema.ts';
import { fingerprintOf, signToken, verifyToken } from '../tokens.ts';
import type { ListFilters } from './query-params.ts';

const VERSION = 'c1';
const ID_RE = new RegExp(ID_PATTERN);

/** The `search_after` key of an entry: `[createdAt epoch ms, id]`. */
export type SortKey = [number, string];

/** A stable digest of what a query asks for, so a cursor only continues the query that issued it. */
export function queryFingerprint(filters: ListFilters, scope: ReadScope): string {
  return fingerprintOf({
    scope: { orgId: scope.orgId, workspaceId: scope.workspaceId ?? null },
    filters: { ...filters, start: filters.start?.toISOString(), end: filters.end?.toISOString() },
  });
}

function isSortKey(key: unknown): key is SortKey {
  return (
    Array.isArray(key) &&
    key.length === 2 &&
    Number.isSafeInteger(key[0]) &&
    typeof key[1] === 'string' &&
    ID_RE.test(key[1])
  );
}

export function encodeCursor(secret: string, key: SortKey, fingerprint: string): string {
  return signToken(secret, VERSION, key, fingerprint);
}

/** The sort key a cursor carries; throws InvalidCursor unless this server issued it for this query. */
export function decodeCursor(secret: string, cursor: string, fingerprint: string): SortKey {
  return verifyToken(secret, VERSION, cursor, fingerprint, isSortKey);
}
