/**
 * Per-request observability: a request id (the caller's `X-Request-Id` when it is printable and at most 128
 * characters, else a new one) echoed in the response header, a child logger carrying it in
 * `res.locals.log`, one access line per request and the latency histogram. The access line names the route
 * pattern, never the path's values, and the API key's id, never the key or a body.
 */
import crypto from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from '../observe/log.ts';
import type { Metrics } from '../observe/metrics.ts';
import { canonicalRoute } from './route-table.ts';

const REQUEST_ID = /^[\x20-\x7e]{1,128}$/;

export function requestId(header: unknown): string {
  return typeof header === 'string' && REQUEST_ID.test(header) ? header : crypto.randomUUID();
}

/** The logger of the request, carrying its `reqId` (set by observeRequests, the first middleware). */
export function logOf(res: Response): Logger {
  return res.locals.log as Logger;
}

/**
 * Express sets `req.route` when a route is dispatched, and restores `req.baseUrl` when leaving a router, so
 * by the time the response finishes (or an error reaches the app's handler) the mount path is gone.
 * The pattern is therefore taken at the moment the route is set.
 */
function trackRoute(req: Request): () => string | undefined {
  let pattern: string | undefined;
  let route: unknown;
  Object.defineProperty(req, 'route', {
    configurable: true,
    enumerable: true,
    get: () => route,
    set(value: { path?: unknown } | undefined) {
      route = value;
      const p = value?.path;
      // A RegExp route (the read router's event id) is labelled as the parameter it matches.
      // A router's own `/` is its mount path (`/api/v1/audit-logs`, not `/api/v1/audit-logs/`).
      const spelled = `${req.baseUrl}${typeof p === 'string' ? p : '/:id'}`.replace(/(.)\/$/, '$1');
      // Only registered patterns become labels, never the caller's spelling of a mount path.
      pattern = value ? (canonicalRoute(req.app, spelled) ?? 'unmatched') : undefined;
    },
  });
  return () => pattern;
}

export function observeRequests(log: Logger, metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    const reqId = requestId(req.headers['x-request-id']);
    const pattern = trackRoute(req);
    res.locals.requestId = reqId;
    res.locals.log = log.child({ reqId });
    res.setHeader('X-Request-Id', reqId);
    let logged = false;
    const done = () => {
      if (logged) return;
      logged = true;
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      // Unmatched paths share one label, so scanners cannot grow the metric's cardinality.
      const route = pattern() ?? (res.statusCode === 404 ? 'unmatched' : 'static');
      const status = res.writableFinished ? res.statusCode : 499; // 499: the client went away first
      metrics.httpDuration.observe({ method: req.method, route, status: String(status) }, seconds);
      const principal = res.locals.principal as { keyId?: string; kind?: string } | undefined;
      const line = {
        method: req.method,
        route,
        status,
        ms: Math.round(seconds * 1e4) / 10,
        ...(principal?.keyId ? { keyId: principal.keyId } : principal ? { principal: principal.kind } : {}),
      };
      const level = status >= 500 ? 'error' : 'info';
      logOf(res)[level](line, 'request');
    };
    res.once('finish', done);
    res.once('close', done);
    next();
  };
}
