/** Builds the Express app from its parts. Tests build it the same way, against a real OpenSearch. */
import express, { type ErrorRequestHandler } from 'express';
import { adminStreamsRouter, streamsRouter } from './delivery/delivery-routes.ts';
import { streamEnv } from './delivery/destinations.ts';
import { adminRouter, isMemberSync, MEMBER_SYNC_TIMEOUT_MS } from './directory/directory-routes.ts';
import { errors, toApiError, type ApiError } from './http/api-errors.ts';
import { AuthGuard } from './http/auth-guard.ts';
import type { HttpContext } from './http/http-context.ts';
import { requestDeadline } from './http/deadline.ts';
import { healthRouter } from './http/health-routes.ts';
import { apiRateLimit } from './http/rate-limit.ts';
import { ingestRouter } from './ingest/ingest-routes.ts';
import { integrityRouter } from './integrity/integrity-routes.ts';
import { pageReadRouter } from './query/page-routes.ts';
import { readRouter } from './query/read-routes.ts';
import { streamRouter } from './stream/stream-routes.ts';
import { uiRouter } from './ui/ui-routes.ts';
import { authenticator } from './http/auth.ts';
import { logOf, observeRequests } from './http/observe.ts';
import { openApiDocument } from './http/openapi.ts';
import { createLogger } from './observe/log.ts';
import { Metrics } from './observe/metrics.ts';
import { storageFailure } from './store/client.ts';

export function buildApp(given: HttpContext): express.Express {
  // On the caller's context, so keys it creates reach the same cache the app's authentication uses.
  const guard = (given.authGuard ??= new AuthGuard(given.cfg.authFailuresPerMinute));
  given.onKeyCreated ??= (id) => guard.keyCreated(id);
  // Tests and scripts may build an app without a logger or metrics: it gets its own.
  const log = given.log ?? createLogger(given.cfg.logLevel);
  const metrics = given.metrics ?? new Metrics();
  const ctx: HttpContext = { ...given, log, metrics };
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.set('query parser', 'simple');

  app.use(observeRequests(log, metrics));
  app.use(healthRouter(ctx));
  // Prometheus scrapes with the operator token; without AUDIT_ADMIN_TOKEN the endpoint is off like the operator API.
  app.get(
    '/metrics',
    (_req, _res, next) => next(ctx.cfg.adminToken ? undefined : errors.operatorApiDisabled()),
    authenticator(ctx)('operator'),
    async (_req, res) => {
      res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
    },
  );
  const openApi = JSON.stringify(openApiDocument());
  app.get('/api/v1/openapi.json', (_req, res) => {
    res.type('json').send(openApi);
  });
  app.use(
    '/api/v1',
    apiRateLimit(ctx.cfg.rateLimitPerMinute, () => metrics.rateLimited.inc(), ctx.rateLimitStore),
  );
  // A full member sync writes every member's change: it alone is bounded more loosely than other requests.
  const deadline = requestDeadline(ctx.cfg.requestTimeoutMs);
  const syncDeadline = requestDeadline(Math.max(ctx.cfg.requestTimeoutMs, MEMBER_SYNC_TIMEOUT_MS));
  app.use('/api/v1', (req, res, next) => (isMemberSync(req) ? syncDeadline : deadline)(req, res, next));
  // Capability routers are mounted here, each owning its paths under /api/v1.
  const streams = streamEnv(ctx.cfg);
  app.use('/api/v1/admin', adminStreamsRouter(ctx, streams)); // push streams of an org, for the operator
  app.use('/api/v1/admin', adminRouter(ctx));
  // Routers with a fixed word under /api/v1/audit-logs (/stream, /histogram, /integrity/..., /:id/proof) go
  // ABOVE the read router: its GET /:id takes any single segment of event-id characters, so `stream` too.
  // The read router (GET /api/v1/audit-logs and GET /api/v1/audit-logs/:id) stays the last one on that path.
  app.use('/api/v1/audit-logs', ingestRouter(ctx));
  app.use(uiRouter(ctx)); // the admin page
  app.use('/api/v1/audit-logs', pageReadRouter(ctx)); // the page's /histogram, /facets, /export
  app.use('/api/v1/audit-logs', streamRouter(ctx)); // GET /stream, above the read router's /:id
  app.use('/api/v1/audit-logs', streamsRouter(ctx, streams)); // push streams, above the read router's /:id
  app.use('/api/v1/audit-logs', integrityRouter(ctx)); // /integrity/..., /:id/proof, above the read router
  app.use('/api/v1/audit-logs', readRouter(ctx));

  app.use((req, _res, next) => next(errors.routeNotFound(req.method, req.path)));
  app.use(errorHandler);
  return app;
}

export const errorHandler: ErrorRequestHandler = (err, req, res, _next) => {
  if (res.headersSent) return; // answered already (requestDeadline): nobody is waiting for this outcome
  // The store says what a raw client error that reached here means (storage unavailable, or full).
  let apiError = toApiError(
    storageFailure(err),
    req.method === 'GET' || req.method === 'HEAD' ? 'read' : 'write',
  );
  if (!apiError) {
    const bodyError = bodyParserError(err, String(req.headers['content-encoding'] ?? ''));
    if (bodyError) apiError = bodyError;
    else {
      logOf(res).error({ err, method: req.method, path: req.path }, 'unhandled error');
      apiError = errors.internal();
    }
  }
  if (apiError.status >= 500 && apiError.code !== 'internal_error') {
    logOf(res).warn(
      { code: apiError.code, err: apiError.code === 'storage_unavailable' ? String(err) : undefined },
      apiError.message,
    );
  }
  // A 5xx body carries the request id, so a report of it can be matched with the server's log lines.
  const body =
    apiError.status >= 500 ? { ...apiError.toJSON(), requestId: res.locals.requestId } : apiError.toJSON();
  res.status(apiError.status).set(apiError.headers).json(body);
};

/**
 * What body-parser (express.json / express.raw, through raw-body and zlib) reports about a body it could not
 * read: an `err.type`, or for a body that does not inflate, zlib's own error (an errno, no type); and the
 * router's failure to decode the path.
 */
function bodyParserError(err: unknown, encoding: string): ApiError | undefined {
  if (!(err instanceof Error)) return undefined;
  const e = err as Error & { type?: string; limit?: number; encoding?: string; charset?: string };
  // The router could not decode a path parameter's %-escapes (`/%FF/proof`).
  if (e instanceof URIError)
    return errors.invalidParam('path', 'The path holds a %-escape that is not UTF-8.');
  switch (e.type) {
    case 'entity.too.large':
      return errors.bodyTooLarge(e.limit ?? 0);
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
