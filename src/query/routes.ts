/**
 * Reads: `GET /api/v1/audit-logs` (filtered, cursor-paged) and `GET /api/v1/audit-logs/:id`.
 *
 * Who may read and what (org, workspace) is decided by the directory's `readScope`; this file adds the
 * filter rules of the product document:
 * - `actorId` must be a current or former member of the org, `workspaceId` a workspace of the org (else 400);
 * - naming a departed member in `actorId` returns their events: the caller asked for that person, so the
 *   departed-member exclusion does not apply. `includeDeparted=false` written out together with a departed
 *   `actorId` contradicts itself and is a 400 naming `includeDeparted` — never a silent empty page;
 * - `GET /:id` applies the org/workspace scope but not the departed exclusion: an id is an explicit request for
 *   one entry, and hiding it would be an unexplained 404.
 */
import { Router } from 'express';
import type { AppContext } from '../context.ts';
import { readScope, workspaceExists, type ReadScope } from '../directory/access.ts';
import { getMember } from '../directory/members.ts';
import { ID_PATTERN } from '../events/schema.ts';
import { authenticator, principalOf } from '../http/auth.ts';
import { errors } from '../http/errors.ts';
import { noQuery } from '../query-string.ts';
import { cursorSecret } from '../tokens.ts';
import { decodeCursor, encodeCursor, queryFingerprint } from './cursor.ts';
import { parseListQuery, type ListFilters, type ListRequest } from './params.ts';
import { findEntry, searchPage } from './search.ts';

/**
 * `/<event id>` and nothing else: one path segment of event-id characters. Paths with more segments
 * (`/integrity/...`, `/:id/proof`) never reach this route; single-word siblings (`/stream`, `/histogram`) must
 * be mounted before this router (see app.ts).
 */
const EVENT_ID_PATH = new RegExp(`^/(${ID_PATTERN.replace(/^\^/, '').replace(/\$$/, '')})$`);

/**
 * Checks the filters that name directory objects, and resolves whether departed members' events are shown.
 * Every reader of filtered entries (list, histogram, export) goes through it, so the rules are the same.
 */
export async function resolveFilters(
  ctx: AppContext,
  scope: ReadScope,
  request: Pick<ListRequest, 'filters' | 'includeDepartedGiven'>,
): Promise<ListFilters> {
  const { filters } = request;
  if (filters.workspaceId !== undefined && !(await workspaceExists(ctx, scope.orgId, filters.workspaceId))) {
    throw errors.invalidParam(
      'workspaceId',
      `workspaceId "${filters.workspaceId}" is not a workspace of this organization.`,
    );
  }
  if (filters.actorId === undefined) return filters;
  // One directory read answers both questions: ever a member (else 400), and departed now.
  const actor = await getMember(ctx, scope.orgId, filters.actorId);
  if (!actor) {
    throw errors.invalidParam(
      'actorId',
      `actorId "${filters.actorId}" is not a current or former member of this organization.`,
    );
  }
  if (request.includeDepartedGiven && !filters.includeDeparted && actor.leftAt) {
    throw errors.invalidParam(
      'includeDeparted',
      `actorId "${filters.actorId}" has left the organization, so includeDeparted=false would hide all of their ` +
        'events; drop includeDeparted or set includeDeparted=true.',
    );
  }
  // An explicit actor is shown whether or not they have left (for a current member the exclusion is moot).
  return { ...filters, includeDeparted: true };
}

export function readRouter(ctx: AppContext): Router {
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
