/**
 * Per-API-key rate limit for every `/api/v1/*` request (express-rate-limit). The count lives in this process's
 * memory, so with several instances each counts alone; with REDIS_URL it lives in Redis, shared by all of them.
 * Headers: `X-RateLimit-Limit`, `X-RateLimit-Remaining`, `X-RateLimit-Reset` (Unix epoch seconds when the
 * window resets); over the limit → 429 JSON with `Retry-After` (seconds). Requests without a key count
 * against their IP address.
 */
import crypto from 'node:crypto';
import type { RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit, type Store } from 'express-rate-limit';
import { RedisStore } from 'rate-limit-redis';
import { createClient } from 'redis';
import { StartupError, redact } from '../startup-error.ts';
import { errors } from './api-errors.ts';

export interface SharedRateLimitStore {
  store: Store;
  close(): Promise<void>;
}

/**
 * The Redis store every instance shares (REDIS_URL). Connecting fails start-up with a line naming REDIS_URL;
 * once running, a Redis outage lets requests through unlimited (passOnStoreError) rather than failing them.
 */
export async function sharedRateLimitStore(redisUrl: string): Promise<SharedRateLimitStore> {
  const where = redact(redisUrl, { nodes: [redisUrl] });
  // No offline queue: while Redis is away a count fails at once instead of holding the request.
  let ready = false;
  let everReady = false;
  const client = createClient({
    url: redisUrl,
    disableOfflineQueue: true,
    // Never connected yet: fail start-up at once; later: reconnect, backing off up to 3 s.
    socket: { reconnectStrategy: (retries, err) => (everReady ? Math.min(100 * 2 ** retries, 3000) : err) },
  });
  client.on('ready', () => (ready = everReady = true));
  client.on('error', (err: Error) => {
    if (!ready) return; // the start-up error below says it
    ready = false;
    console.error(
      `rate limit: lost Redis at ${where} (${redact(err.message, { nodes: [redisUrl] })}); not limiting until it is back`,
    );
  });
  try {
    await Promise.race([
      client.connect(),
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error('no answer within 10 s')), 10_000).unref(),
      ),
    ]);
  } catch (err) {
    if (client.isOpen) client.destroy();
    throw new StartupError(
      `cannot reach Redis at ${where}: ${redact((err as Error).message, { nodes: [redisUrl] })}; check REDIS_URL`,
    );
  }
  const store = new RedisStore({
    prefix: 'audit-rl:',
    sendCommand: (...args: string[]) => client.sendCommand(args),
  });
  return {
    store,
    async close() {
      client.destroy();
    },
  };
}

export function apiRateLimit(
  perMinute: number,
  onRefused: () => void = () => undefined,
  store?: Store,
): RequestHandler {
  return rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    ...(store ? { store, passOnStoreError: true } : {}),
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
