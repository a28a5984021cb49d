/**
 * Bounds every API request in time: a request that has not started its answer `ms` after it arrived (OpenSearch
 * stalled, or slower than that) is answered 503 + Retry-After, and whatever it still does is answered to no one.
 * Streams that have started answering are not cut.
 */
import type { RequestHandler, Response } from 'express';
import { errors } from './api-errors.ts';
import { logOf } from './observe.ts';

/** Stops the request's deadline; the function returned starts it again, in full, from that moment. */
type Pause = () => () => void;
const pauses = new WeakMap<Response, Pause>();

export function requestDeadline(ms: number): RequestHandler {
  return (_req, res, next) => {
    const answer = () => {
      if (res.headersSent) return;
      const err = errors.requestTimedOut(Math.round(ms / 1000));
      logOf(res).warn({ code: err.code }, err.message);
      res
        .status(err.status)
        .set(err.headers)
        .json({ ...err.toJSON(), requestId: res.locals.requestId });
    };
    let timer = setTimeout(answer, ms);
    let closed = false;
    res.once('close', () => {
      closed = true;
      clearTimeout(timer);
    });
    pauses.set(res, () => {
      clearTimeout(timer);
      return () => {
        clearTimeout(timer);
        if (!closed) timer = setTimeout(answer, ms);
      };
    });
    next();
  };
}

/**
 * While a request body arrives, the time it takes is the sender's (bounded by its own limit and answer, see
 * body-reading.ts), not the store's: the deadline stops, and starts again in full once the body is read.
 */
export function pauseDeadline(res: Response): () => void {
  return pauses.get(res)?.() ?? (() => undefined);
}
