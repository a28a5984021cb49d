/**
 * Keeps made-up credentials cheap: key ids that do not exist are remembered for a minute (no second OpenSearch
 * lookup), and a client address with too many failed authentications in a minute gets 429 before any lookup.
 * One guard per app (per process): another instance learns of a key created elsewhere only when the entry
 * expires, so a key whose id was asked for as unknown is refused there for at most UNKNOWN_KEY_TTL_MS.
 */
import crypto from 'node:crypto';
import type { Request } from 'express';
import { ipKeyGenerator, MemoryStore, type Options } from 'express-rate-limit';

export const UNKNOWN_KEY_TTL_MS = 60_000;
const UNKNOWN_KEY_MAX = 10_000;
/** How long a credential that authenticated still passes an address's failure limit. */
const RECENTLY_VALID_TTL_MS = 10 * 60_000;
const RECENTLY_VALID_MAX = 10_000;
const WINDOW_MS = 60_000;

/** A set whose members expire; past `max` members the oldest go first, so memory stays bounded. */
export class ExpiringSet {
  private readonly until = new Map<string, number>();

  constructor(
    private readonly max: number,
    private readonly ttlMs: number,
  ) {}

  has(key: string): boolean {
    const t = this.until.get(key);
    if (t === undefined) return false;
    if (t > Date.now()) return true;
    this.until.delete(key);
    return false;
  }

  add(key: string): void {
    this.until.delete(key); // re-inserted at the end: Map order is age order
    this.until.set(key, Date.now() + this.ttlMs);
    while (this.until.size > this.max) this.until.delete(this.until.keys().next().value!);
  }

  delete(key: string): void {
    this.until.delete(key);
  }

  get size(): number {
    return this.until.size;
  }
}

const digest = (credential: string) => crypto.createHash('sha256').update(credential).digest('hex');

export class AuthGuard {
  /** Key ids OpenSearch did not have. */
  readonly unknownKeys = new ExpiringSet(UNKNOWN_KEY_MAX, UNKNOWN_KEY_TTL_MS);
  /** API-key lookups that went to OpenSearch (the negative cache answers the rest). */
  lookups = 0;
  /** Hashes of credentials that authenticated lately (no secret is kept in memory). */
  private readonly recentlyValid = new ExpiringSet(RECENTLY_VALID_MAX, RECENTLY_VALID_TTL_MS);
  private readonly failures = new MemoryStore();

  constructor(readonly failuresPerMinute: number) {
    this.failures.init({ windowMs: WINDOW_MS } as Options);
  }

  /**
   * Seconds to wait when the request's address is over its failure limit, else undefined. A credential that
   * authenticated in the last minutes still passes: telling a real key from a made-up one would cost the lookup
   * the limit saves, but one seen valid cannot be guessed, so clients sharing an address (NAT, a proxy) with
   * whoever sprays keys keep working.
   */
  async retryAfter(req: Request, credential: string): Promise<number | undefined> {
    const info = await this.failures.get(addressOf(req));
    if (!info || info.totalHits < this.failuresPerMinute) return undefined;
    if (this.recentlyValid.has(digest(credential))) return undefined;
    const resetMs = info.resetTime?.getTime() ?? Date.now() + WINDOW_MS;
    return Math.max(1, Math.ceil((resetMs - Date.now()) / 1000));
  }

  async failed(req: Request): Promise<void> {
    await this.failures.increment(addressOf(req));
  }

  succeeded(credential: string): void {
    this.recentlyValid.add(digest(credential));
  }

  /** A key created in this process is found from now on, even if its id was asked for just before. */
  keyCreated(id: string): void {
    this.unknownKeys.delete(id);
  }
}

/** The TCP peer (`trust proxy` is off), IPv6 grouped by /56 so one host cannot rotate through its addresses. */
const addressOf = (req: Request) => `ip:${ipKeyGenerator(req.ip ?? '')}`;
