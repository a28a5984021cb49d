/**
 * Bounds every API request in time: a request that has not started its answer `ms` after it arrived (OpenSearch
 * stalled, or slower than that) is answered 503 + Retry-After, and whatever it still does is answered to no one.
 * Streams that have started answering are not cut.
 */
import type { RequestHandler } from 'express';
import { errors } from './errors.ts';
import { logOf } from './observe.ts';

export function requestDeadline(ms: number): RequestHandler {
  return (_req, res, next) => {
    const timer = setTimeout(() => {
      if (res.headersSent) return;
      const err = errors.requestTimedOut(Math.round(ms / 1000));
      logOf(res).warn({ code: err.code }, err.message);
      res
        .status(err.status)
        .set(err.headers)
        .json({ ...err.toJSON(), requestId: res.locals.requestId });
    }, ms);
    res.once('close', () => clearTimeout(timer));
    next();
  };
}
