/**
 * The operator API under `/api/v1/admin` (exactly the routes of the interface contract), authenticated with
 * the operator token. Without AUDIT_ADMIN_TOKEN every route answers 404 operator_api_disabled, so a server
 * that was never given a token exposes no directory surface at all.
 */
import express, { Router, type ErrorRequestHandler, type Request } from 'express';
import type { HttpContext } from '../http/http-context.ts';
import { authenticator } from '../http/auth.ts';
import { errors } from '../http/api-errors.ts';
import { jsonBody, verifyStrictJson } from '../http/strict-json.ts';
import { createApiKey, revokeApiKey } from './api-keys.ts';
import { putMember, removeMember, syncMembers } from './members.ts';
import { putOrg } from './orgs.ts';
import {
  ingestKeyBody,
  keyParams,
  memberBody,
  memberListBody,
  memberParams,
  orgBody,
  orgKeyKind,
  orgParams,
  personalKeyBody,
  workspaceBody,
  workspaceKeyBody,
  workspaceParams,
} from './validators.ts';
import { putWorkspace } from './workspaces.ts';

/** How long a full member sync may take before its caller is answered 503 (its work is idempotent to repeat). */
export const MEMBER_SYNC_TIMEOUT_MS = 300_000;

/** Whether a request under /api/v1 is the member sync, `PUT /admin/orgs/:orgId/members`. */
export const isMemberSync = (req: Request) =>
  req.method === 'PUT' && /^\/admin\/orgs\/[^/]+\/members\/?$/.test(req.path);

export function adminRouter(ctx: HttpContext): Router {
  const router = Router();
  router.use((_req, _res, next) => next(ctx.cfg.adminToken ? undefined : errors.operatorApiDisabled()));
  router.use(authenticator(ctx)('operator'));
  // A full member list (SCIM-like sync) is the one large body: about 150 bytes a member.
  router.put(
    '/orgs/:orgId/members',
    express.json({ limit: '32mb', strict: false, verify: verifyStrictJson }),
  );
  router.use(express.json({ limit: '64kb', strict: false, verify: verifyStrictJson }));
  // A body over either limit is answered in the operator API's terms, not in ingest's.
  router.use(((err, _req, _res, next) => {
    const { type, limit } = err as { type?: string; limit?: number };
    next(
      type === 'entity.too.large'
        ? errors.bodyTooLarge(limit ?? 0, 'a member list may take up to 32 MB, any other body up to 64 KB')
        : err,
    );
  }) as ErrorRequestHandler);

  router.put('/orgs/:orgId', async (req, res) => {
    const { orgId } = orgParams(req.params);
    const { org, created } = await putOrg(ctx, orgId, orgBody(jsonBody(req)));
    res.status(created ? 201 : 200).json(org);
  });

  router.put('/orgs/:orgId/workspaces/:workspaceId', async (req, res) => {
    const { orgId, workspaceId } = workspaceParams(req.params);
    const { workspace, created } = await putWorkspace(ctx, orgId, workspaceId, workspaceBody(jsonBody(req)));
    res.status(created ? 201 : 200).json(workspace);
  });

  router.put('/orgs/:orgId/members', async (req, res) => {
    const { orgId } = orgParams(req.params);
    const { added, updated, removed, unchanged } = await syncMembers(
      ctx,
      orgId,
      memberListBody(jsonBody(req)).members,
    );
    res.json({ added: added.length, updated: updated.length, removed: removed.length, unchanged });
  });

  router.put('/orgs/:orgId/members/:userId', async (req, res) => {
    const { orgId, userId } = memberParams(req.params);
    const { member, created } = await putMember(ctx, orgId, userId, memberBody(jsonBody(req)));
    res.status(created ? 201 : 200).json(member);
  });

  router.delete('/orgs/:orgId/members/:userId', async (req, res) => {
    const { orgId, userId } = memberParams(req.params);
    res.json(await removeMember(ctx, orgId, userId));
  });

  router.post('/orgs/:orgId/api-keys', async (req, res) => {
    const { orgId } = orgParams(req.params);
    const body = jsonBody(req);
    const { type } = orgKeyKind(body);
    const request = type === 'personal' ? personalKeyBody(body) : workspaceKeyBody(body);
    const { id, key } = await createApiKey(ctx, orgId, request);
    res.status(201).json({ id, key });
  });

  router.post('/ingest-keys', async (req, res) => {
    const { orgId } = ingestKeyBody(jsonBody(req, true));
    const { id, key } = await createApiKey(ctx, orgId, { type: 'ingest', ...(orgId ? { orgId } : {}) });
    res.status(201).json({ id, key });
  });

  router.delete('/api-keys/:id', async (req, res) => {
    const { id } = keyParams(req.params);
    res.json(await revokeApiKey(ctx, id));
  });

  return router;
}
