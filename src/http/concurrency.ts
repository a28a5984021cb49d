/**
 * Admission control: at most `max` requests through this middleware at once, and only one while the process's
 * resident memory is above `memoryBytes` (garbage the GC has not returned yet, or a large backlog for the
 * sealer); one more is answered at once with `refuse()` (before its body is read), so memory stays bounded
 * whatever the load and producers back off. One request is always admitted, so work never stops.
 */
import type { RequestHandler } from 'express';
import type { ApiError } from './errors.ts';

export function concurrencyLimit(max: number, memoryBytes: number, refuse: () => ApiError): RequestHandler {
  let inFlight = 0;
  return (_req, res, next) => {
    if (inFlight >= max || (inFlight > 0 && process.memoryUsage.rss() > memoryBytes)) return next(refuse());
    inFlight += 1;
    res.once('close', () => (inFlight -= 1));
    next();
  };
}
