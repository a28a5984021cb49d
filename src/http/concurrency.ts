/**
 * Admission control: at most `max` requests through this middleware at once; one more is answered at once with
 * `refuse()` (before its body is read), so memory stays bounded whatever the load and producers back off.
 */
import type { RequestHandler } from 'express';
import type { ApiError } from './errors.ts';

export function concurrencyLimit(max: number, refuse: () => ApiError): RequestHandler {
  let inFlight = 0;
  return (_req, res, next) => {
    if (inFlight >= max) return next(refuse());
    inFlight += 1;
    res.once('close', () => (inFlight -= 1));
    next();
  };
}
