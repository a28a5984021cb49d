/**
 * Admission control. A `Capacity` is a per-instance budget (requests at once, or bytes being read). One API
 * key may hold half of it, and more only while `reserve` (one more request of another key) stays free, so one
 * producer or reader cannot take every place and starve the other orgs, yet a lone producer is not held to
 * half. What does not fit is answered at once (503 + Retry-After), so memory stays bounded whatever the load
 * and clients back off. The first taker always fits, so work never stops.
 */
import type { RequestHandler, Response } from 'express';
import { principalOf } from './auth.ts';
import type { ApiError } from './api-errors.ts';

export class Capacity {
  private used = 0;
  private readonly byKey = new Map<string, number>();

  constructor(
    readonly total: number,
    private readonly reserve = 1,
  ) {}

  /** What one key may always hold: half the total (at least one request's worth). */
  get share(): number {
    return Math.max(1, Math.floor(this.total / 2));
  }

  /** Takes `amount` for `key`: a release function (safe to call twice), or undefined when it does not fit. */
  take(key: string, amount = 1): (() => void) | undefined {
    const mine = this.byKey.get(key) ?? 0;
    if (this.used > 0 && this.used + amount > this.total) return undefined;
    const beyondShare = mine > 0 && mine + amount > this.share;
    if (beyondShare && this.used + amount > this.total - this.reserve) return undefined;
    this.used += amount;
    this.byKey.set(key, mine + amount);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.used -= amount;
      const left = (this.byKey.get(key) ?? 0) - amount;
      if (left > 0) this.byKey.set(key, left);
      else this.byKey.delete(key);
    };
  }

  get inUse(): number {
    return this.used;
  }
}

/** Whose share a request counts against: its API key (the operator token is one key). */
export function keyOf(res: Response): string {
  const principal = principalOf(res);
  return principal.kind === 'operator' ? 'operator' : principal.keyId;
}

/**
 * Middleware: one place of `capacity` for the request until its response closes, else `refuse()`. With
 * `memoryBytes`, only one request is admitted while the process's resident memory is above it (garbage the
 * GC has not returned yet, or a large backlog for the sealer).
 */
export function admit(capacity: Capacity, refuse: () => ApiError, memoryBytes = Infinity): RequestHandler {
  return (_req, res, next) => {
    if (capacity.inUse > 0 && process.memoryUsage.rss() > memoryBytes) return next(refuse());
    const release = capacity.take(keyOf(res));
    if (!release) return next(refuse());
    res.once('close', release);
    next();
  };
}
