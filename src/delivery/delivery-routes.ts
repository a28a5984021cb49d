/**
 * The push streams' API: `/api/v1/audit-logs/streams…` for org owners and admins (personal keys) and
 * `/api/v1/admin/orgs/:orgId/streams…` for the operator; both run the same handlers on a StreamCall.
 */
import express, { Router, type ErrorRequestHandler, type Request, type Response } from 'express';
import type { AppContext } from '../context.ts';
import { authenticator, principalOf } from '../http/auth.ts';
import { errors } from '../http/api-errors.ts';
import { jsonBody, verifyStrictJson } from '../http/strict-json.ts';
import { streamEnv, type StreamEnv } from './destinations.ts';
import { memberStreamCall, operatorStreamCall } from './stream-access.ts';
import {
  createStream,
  deleteStream,
  getStream,
  listStreams,
  replayStream,
  setStreamStatus,
  updateStream,
  type StreamCall,
} from './stream-admin.ts';
import { sendTestEvent } from './stream-test-send.ts';
import { orgParams } from '../directory/validators.ts';
import { patchBody, replayBody, streamParams } from './stream-validators.ts';

type CallOf = (req: Request, res: Response) => Promise<{ call: StreamCall; id?: string }>;

function streamHandlers(router: Router, base: string, callOf: CallOf): void {
  const withId = async (req: Request, res: Response) => {
    const { call, id } = await callOf(req, res);
    return { call, id: id! };
  };
  router.get(base, async (req, res) => {
    const { call } = await callOf(req, res);
    res.json({ data: await listStreams(call) });
  });
  router.post(base, async (req, res) => {
    const { call } = await callOf(req, res);
    res.status(201).json(await createStream(call, jsonBody(req)));
  });
  router.get(`${base}/:id`, async (req, res) => {
    const { call, id } = await withId(req, res);
    res.json(await getStream(call, id));
  });
  router.patch(`${base}/:id`, async (req, res) => {
    const { call, id } = await withId(req, res);
    res.json(await updateStream(call, id, patchBody(jsonBody(req))));
  });
  router.delete(`${base}/:id`, async (req, res) => {
    const { call, id } = await withId(req, res);
    res.json(await deleteStream(call, id));
  });
  router.post(`${base}/:id/test`, async (req, res) => {
    const { call, id } = await withId(req, res);
    res.json(await sendTestEvent(call, id));
  });
  router.post(`${base}/:id/pause`, async (req, res) => {
    const { call, id } = await withId(req, res);
    res.json(await setStreamStatus(call, id, 'paused'));
  });
  router.post(`${base}/:id/resume`, async (req, res) => {
    const { call, id } = await withId(req, res);
    res.json(await setStreamStatus(call, id, 'active'));
  });
  router.post(`${base}/:id/replay`, async (req, res) => {
    const { call, id } = await withId(req, res);
    res.json(await replayStream(call, id, replayBody(jsonBody(req))));
  });
}

const jsonParser = express.json({ limit: '128kb', strict: false, verify: verifyStrictJson });
const tooLarge: ErrorRequestHandler = (err, _req, _res, next) => {
  const { type, limit } = err as { type?: string; limit?: number };
  next(type === 'entity.too.large' ? errors.bodyTooLarge(limit ?? 0, 'a stream takes up to 128 KB') : err);
};

/** Mounted on /api/v1/audit-logs. */
export function streamsRouter(ctx: AppContext, env: StreamEnv = streamEnv(ctx.cfg)): Router {
  const router = Router();
  const auth = authenticator(ctx)('api-key');
  router.use('/streams', auth, jsonParser, tooLarge);
  streamHandlers(router, '/streams', async (req, res) => {
    const call = await memberStreamCall(ctx, env, principalOf(res));
    return { call, ...(req.params.id !== undefined ? streamParams({ id: req.params.id }) : {}) };
  });
  return router;
}

/** Mounted on /api/v1/admin. */
export function adminStreamsRouter(ctx: AppContext, env: StreamEnv = streamEnv(ctx.cfg)): Router {
  const router = Router();
  router.use('/orgs/:orgId/streams', (_req, _res, next) =>
    next(ctx.cfg.adminToken ? undefined : errors.operatorApiDisabled()),
  );
  router.use('/orgs/:orgId/streams', authenticator(ctx)('operator'), jsonParser, tooLarge);
  streamHandlers(router, '/orgs/:orgId/streams', async (req) => {
    const { orgId } = orgParams({ orgId: req.params.orgId });
    const id = req.params.id !== undefined ? streamParams({ id: req.params.id }).id : undefined;
    return { call: await operatorStreamCall(ctx, env, orgId), ...(id ? { id } : {}) };
  });
  return router;
}
