/** Builds the Express app from its parts. Tests build it the same way, against a real OpenSearch. */
import express, { type ErrorRequestHandler } from 'express';
import type { Config } from './config.ts';
import { adminRouter, isMemberSync, MEMBER_SYNC_TIMEOUT_MS } from './directory/routes.ts';
import { ApiError, errors } from './http/errors.ts';
import { AuthGuard } from './http/auth-guard.ts';
import { requestDeadline } from './http/deadline.ts';
import { healthRouter } from './http/health.ts';
import { apiRateLimit } from './http/rate-limit.ts';
import { ingestRouter } from './ingest/routes.ts';
import { integrityRouter } from './integrity/routes.ts';
import { readRouter } from './query/routes.ts';
import { streamRouter } from './stream/routes.ts';
import { uiRouter } from './ui/routes.ts';
import type { Store } from './store/client.ts';
import { isUnavailable } from './store/client.ts';
import type { Written } from './integrity/written.ts';

export interface AppContext {
  cfg: Config;
  store: Store;
  /** What this process's write path stored, for its own sealer (absent: the sealer walks the ledger). */
  written?: Written;
  /** Negative key cache and failed-authentication limit; buildApp adds one (absent in scripts: no caching). */
  authGuard?: AuthGuard;
}

export function buildApp(ctx: AppContext): express.Express {
  // On the caller's context, so keys it creates reach the same cache the app's authentication uses.
  ctx.authGuard ??= new AuthGuard(ctx.cfg.authFailuresPerMinute);
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.set('query parser', 'simple');

  app.use(healthRouter(ctx));
  app.use('/api/v1', apiRateLimit(ctx.cfg.rateLimitPerMinute));
  // A full member sync writes every member's change: it alone is bounded more loosely than other requests.
  const deadline = requestDeadline(ctx.cfg.requestTimeoutMs);
  const syncDeadline = requestDeadline(Math.max(ctx.cfg.requestTimeoutMs, MEMBER_SYNC_TIMEOUT_MS));
  app.use('/api/v1', (req, res, next) => (isMemberSync(req) ? syncDeadline : deadline)(req, res, next));
  // Capability routers are mounted here, each owning its paths under /api/v1.
  app.use('/api/v1/admin', adminRouter(ctx));
  // Routers with a fixed word under /api/v1/audit-logs (/stream, /histogram, /integrity/..., /:id/proof) go
  // ABOVE the read router: its GET /:id takes any single segment of event-id characters, so `stream` too.
  // The read router (GET /api/v1/audit-logs and GET /api/v1/audit-logs/:id) stays the last one on that path.
  app.use('/api/v1/audit-logs', ingestRouter(ctx));
  app.use(uiRouter(ctx)); // the admin page, and its /histogram, /facets, /export (above the read router)
  app.use('/api/v1/audit-logs', streamRouter(ctx)); // GET /stream, above the read router's /:id
  app.use('/api/v1/audit-logs', integrityRouter(ctx)); // /integrity/..., /:id/proof, above the read router
  app.use('/api/v1/audit-logs', readRouter(ctx));

  app.use((req, _res, next) => next(errors.routeNotFound(req.method, req.path)));
  app.use(errorHandler);
  return app;
}

export const errorHandler: ErrorRequestHandler = (err, _req, res, _next) => {
  if (res.headersSent) return; // answered already (requestDeadline): nobody is waiting for this outcome
  let apiError: ApiError;
  if (err instanceof ApiError) apiError = err;
  else if (isUnavailable(err)) apiError = errors.storageUnavailable();
  else if (err?.type === 'entity.too.large') apiError = errors.bodyTooLarge(String(err.limit ?? ''));
  else if (err?.type === 'entity.parse.failed')
    apiError = errors.invalidBody(`The body is not valid JSON: ${err.message}`);
  else {
    console.error('unhandled error', err);
    apiError = errors.internal();
  }
  res.status(apiError.status).set(apiError.headers).json(apiError.toJSON());
};
