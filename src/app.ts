/** Builds the Express app from its parts. Tests build it the same way, against a real OpenSearch. */
import express, { type ErrorRequestHandler } from 'express';
import type { Config } from './config.ts';
import { adminRouter } from './directory/routes.ts';
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
  app.use('/api/v1', requestDeadline(ctx.cfg.requestTimeoutMs));
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

export const errorHandler: ErrorRequestHandler = (err, req, res, _next) => {
  if (res.headersSent) return; // answered already (requestDeadline): nobody is waiting for this outcome
  let apiError: ApiError;
  if (err instanceof ApiError) apiError = err;
  else if (isUnavailable(err)) {
    apiError = errors.storageUnavailable(req.method === 'GET' || req.method === 'HEAD' ? 'read' : 'write');
  } else {
    const bodyError = bodyParserError(err, String(req.headers['content-encoding'] ?? ''));
    if (bodyError) apiError = bodyError;
    else {
      console.error('unhandled error', err);
      apiError = errors.internal();
    }
  }
  res.status(apiError.status).set(apiError.headers).json(apiError.toJSON());
};

/**
 * What body-parser (express.json / express.raw, through raw-body and zlib) reports about a body it could not
 * read: an `err.type`, or for a body that does not inflate, zlib's own error (an errno, no type).
 */
function bodyParserError(err: unknown, encoding: string): ApiError | undefined {
  if (!(err instanceof Error)) return undefined;
  const e = err as Error & { type?: string; limit?: number; encoding?: string; charset?: string };
  switch (e.type) {
    case 'entity.too.large':
      return errors.bodyTooLarge(String(e.limit ?? ''));
    case 'entity.parse.failed':
      return errors.invalidBody(`The body is not valid JSON: ${e.message}`);
    case 'encoding.unsupported':
      return errors.unsupportedContentEncoding(e.encoding ?? encoding);
    case 'charset.unsupported':
      return errors.unsupportedCharset(e.charset ?? '');
    case 'request.size.invalid':
      return errors.invalidBody(
        'The body is not as long as its Content-Length header says.',
        'Content-Length',
      );
    case 'request.aborted':
      return errors.invalidBody('The request body ended before it was complete.');
  }
  const { errno, code } = e as { errno?: unknown; code?: unknown };
  if (
    e.type === undefined &&
    typeof errno === 'number' &&
    /^(Z_|ERR_)/.test(String(code)) &&
    encoding !== ''
  ) {
    return errors.undecodableBody(encoding, e.message);
  }
  return undefined;
}
