/**
 * Per-API-key rate limit for every `/api/v1/*` request (express-rate-limit, per-process memory store).
 * Headers: `X-RateLimit-Limit`, `X-RateLimit-Remaining`, `X-RateLimit-Reset` (Unix epoch seconds when the
 * window resets); over the limit → 429 JSON with `Retry-After` (seconds). Requests without a key count
 * against their IP address.
 */
import crypto from 'node:crypto';
import type { RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import { errors } from './errors.ts';

export function apiRateLimit(perMinute: number, onRefused: () => void = () => undefined): RequestHandler {
  return rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    standardHeaders: false,
    legacyHeaders: true,
    keyGenerator: (req) => {
      const header = req.headers.authorization;
      // Hash the key so no secret is kept in memory as a map key.
      return header
        ? `key:${crypto.createHash('sha256').update(header).digest('hex')}`
        : `ip:${ipKeyGenerator(req.ip ?? '')}`;
    },
    handler: (_req, _res, next, options) => {
      const resetMs = (
        _req as unknown as { rateLimit?: { resetTime?: Date } }
      ).rateLimit?.resetTime?.getTime();
      const retryAfter = Math.max(
        1,
        Math.ceil(((resetMs ?? Date.now() + options.windowMs) - Date.now()) / 1000),
      );
      onRefused();
      next(errors.rateLimited(retryAfter));
    },
  });
}
