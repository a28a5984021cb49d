/**
 * Reads: `GET /api/v1/audit-logs` (filtered, cursor-paged) and `GET /api/v1/audit-logs/:id`.
 *
 * Who may read and what (org, workspace) is decided by the directory's `readScope`, the filter rules by
 * filters.ts;
 * - `GET /:id` applies the org/workspace scope but not the departed exclusion: an id is an explicit request for
 *   one entry, and hiding it would be an unexplained 404.
 */
import { Router } from 'express';
import type { HttpContext } from '../http/http-context.ts';
import { readScope } from '../directory/access.ts';
import { ID_PATTERN } from '../events/schema.ts';
import { authenticator, principalOf } from '../http/auth.ts';
import { errors } from '../http/api-errors.ts';
import { noQuery } from '../query-string.ts';
import { cursorSecret } from '../tokens.ts';
import { decodeCursor, encodeCursor, queryFingerprint } from './cursor.ts';
import { resolveFilters } from './filters.ts';
import { parseListQuery } from './query-params.ts';
import { findEntry, searchPage } from './search.ts';

/**
 * `/<event id>` and nothing else: one path segment of event-id characters. Paths with more segments
 * (`/integrity/...`, `/:id/proof`) never reach this route; single-word siblings (`/stream`, `/histogram`) must
 * be mounted before this router (see app.ts).
 */
const EVENT_ID_PATH = new RegExp(`^/(${ID_PATTERN.replace(/^\^/, '').replace(/\$$/, '')})$`);

export function readRouter(ctx: HttpContext): Router {
  const auth = authenticator(ctx)('api-key');
  const secret = cursorSecret(ctx.cfg);
  const router = Router();

  router.get('/', auth, async (req, res) => {
    const request = parseListQuery(req.query as Record<string, unknown>);
    const scope = await readScope(ctx, principalOf(res), request.filters.workspaceId);
    const filters = await resolveFilters(ctx, scope, request);
    const fingerprint = queryFingerprint(filters, scope);
    const after =
      request.cursor === undefined ? undefined : decodeCursor(secret, request.cursor, fingerprint);
    const page = await searchPage(ctx.store, filters, scope, request.limit, after);
    res.json({
      data: page.entries,
      ...(page.next ? { nextCursor: encodeCursor(secret, page.next, fingerprint) } : {}),
    });
  });

  router.get(EVENT_ID_PATH, auth, async (req, res) => {
    noQuery(req.query as Record<string, unknown>);
    const id = (req.params as Record<string, string>)[0]!;
    const scope = await readScope(ctx, principalOf(res));
    const entry = await findEntry(ctx.store, id, scope);
    if (!entry) throw errors.notFound(`Audit log entry "${id}"`);
    res.json(entry);
  });

  return router;
}
