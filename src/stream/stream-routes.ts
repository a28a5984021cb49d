/**
 * `GET /api/v1/audit-logs/stream?cursor=…&limit=…`: the never-ending, never-skipping feed for SIEMs.
 * Same keys and scope as the list endpoint (`readScope`), the same rate limit (on /api/v1), the same signed
 * cursor codec (a stream cursor has its own version prefix and is bound to the scope and filters).
 *
 * Answer: `{ data: [entry…], nextCursor, caughtUp }`. `nextCursor` is always there — an empty page too —
 * and is where the next request continues; `caughtUp: true` means "nothing more sealed yet, poll later".
 * Unlike the list endpoint, departed members' entries are included: a feed that must never skip cannot
 * hide entries depending on who is a member at the time of reading.
 */
import { Router } from 'express';
import type { HttpContext } from '../http/http-context.ts';
import { readScope, workspaceExists, type ReadScope } from '../directory/access.ts';
import { authenticator, principalOf } from '../http/auth.ts';
import { admit, Capacity } from '../http/concurrency.ts';
import { errors } from '../http/api-errors.ts';
import { cursorSecret, fingerprintOf, signToken, verifyToken } from '../tokens.ts';
import { parseStreamQuery } from './stream-params.ts';
import { readStream, STREAM_START, type StreamFilters, type StreamPosition } from './read.ts';

const CURSOR_VERSION = 's1';

function fingerprint(scope: ReadScope, filters: StreamFilters): string {
  return fingerprintOf({ stream: true, orgId: scope.orgId, workspaceId: scope.workspaceId ?? null, filters });
}

/** `[seal seq, leaf]`: where the next page starts. */
function isPosition(value: unknown): value is [number, number] {
  return (
    Array.isArray(value) &&
    value.length === 2 &&
    Number.isSafeInteger(value[0]) &&
    value[0] >= 1 &&
    Number.isSafeInteger(value[1]) &&
    value[1] >= 0
  );
}

function decodePosition(secret: string, cursor: string, fp: string): StreamPosition {
  const [seq, leaf] = verifyToken(secret, CURSOR_VERSION, cursor, fp, isPosition);
  return { seq, leaf };
}

export function streamRouter(ctx: HttpContext): Router {
  const auth = authenticator(ctx)('api-key');
  const secret = cursorSecret(ctx.cfg);
  const router = Router();

  // A page of up to STREAM_MAX_LIMIT entries is held until its client has taken it: their number is bounded.
  const answering = admit(new Capacity(ctx.cfg.streamConcurrency), () =>
    errors.streamBusy(ctx.cfg.streamConcurrency),
  );
  router.get('/stream', auth, answering, async (req, res) => {
    const request = parseStreamQuery(req.query as Record<string, unknown>);
    const scope = await readScope(ctx, principalOf(res), request.filters.workspaceId);
    if (
      request.filters.workspaceId !== undefined &&
      !(await workspaceExists(ctx, scope.orgId, request.filters.workspaceId))
    ) {
      throw errors.invalidParam(
        'workspaceId',
        `workspaceId "${request.filters.workspaceId}" is not a workspace of this organization.`,
      );
    }
    const fp = fingerprint(scope, request.filters);
    const from = request.cursor === undefined ? STREAM_START : decodePosition(secret, request.cursor, fp);
    const page = await readStream(ctx.store, scope, request.filters, from, request.limit);
    res.json({
      data: page.entries,
      nextCursor: signToken(secret, CURSOR_VERSION, [page.next.seq, page.next.leaf], fp),
      caughtUp: page.caughtUp,
    });
  });

  return router;
}
