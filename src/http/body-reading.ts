/**
 * Reading a request body into memory, bounded three ways: its size (`maxBytes`, 413), the time it may take to
 * arrive (`timeoutMs`, 408 `body_timeout`, the connection closed), and the bytes all bodies being read may
 * hold at once (`buffer`, shared fairly between keys: concurrency.ts; past it, `refuse()` before reading). A slow
 * sender so holds only its own few bytes for a few seconds, never a place others need to be written.
 */
import express, { type RequestHandler } from 'express';
import { keyOf, type Capacity } from './concurrency.ts';
import { pauseDeadline } from './deadline.ts';
import { errors, type ApiError } from './api-errors.ts';

export interface BodyLimits {
  maxBytes: number;
  timeoutMs: number;
  buffer: Capacity;
  refuse: () => ApiError;
}

export function readBody({ maxBytes, timeoutMs, buffer, refuse }: BodyLimits): RequestHandler {
  const raw = express.raw({ type: () => true, limit: maxBytes });
  return (req, res, next) => {
    const release = buffer.take(keyOf(res), bytesToHold(req.headers, maxBytes));
    if (!release) return next(refuse());
    // The time a body takes is the sender's, answered by its own limit, not as a storage timeout.
    const resumeDeadline = pauseDeadline(res);
    let settled = false;
    /** Ends the reading once: `then` goes on (unless the client is gone), with the body or an error. */
    const settle = (then?: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      release();
      then?.();
    };
    const timer = setTimeout(() => settle(() => next(errors.bodyTimeout(timeoutMs / 1000))), timeoutMs);
    res.once('close', () => settle());
    raw(req, res, (err?: unknown) =>
      settle(() => {
        if (err) return next(err);
        resumeDeadline();
        next();
      }),
    );
  };
}

/** What a body may grow to in memory: its Content-Length when it is sent as is, else the most allowed. */
function bytesToHold(headers: Record<string, string | string[] | undefined>, maxBytes: number): number {
  const encoding = headers['content-encoding'];
  const length = Number(headers['content-length']);
  const identity = encoding === undefined || encoding === '' || encoding === 'identity';
  return identity && Number.isSafeInteger(length) && length >= 0 ? Math.min(length, maxBytes) : maxBytes;
}
