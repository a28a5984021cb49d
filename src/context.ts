/**
 * What every part of the service is handed: the configuration, the store, and the per-instance helpers. Its own
 * module, so that the routers and the domain need not import the composition root (app.ts) for it.
 */
import type { Store as RateLimitStore } from 'express-rate-limit';
import type { Config } from './config.ts';
import type { AuthGuard } from './http/auth-guard.ts';
import type { Written } from './integrity/written.ts';
import type { Logger } from './observe/log.ts';
import type { Metrics } from './observe/metrics.ts';
import type { Store } from './store/client.ts';

export interface AppContext {
  cfg: Config;
  store: Store;
  /** What this process's write path stored, for its own sealer (absent: the sealer walks the ledger). */
  written?: Written;
  /** Negative key cache and failed-authentication limit; buildApp adds one (absent in scripts: no caching). */
  authGuard?: AuthGuard;
  /** The service's logger (default: one built from cfg.logLevel). */
  log?: Logger;
  /** This instance's metrics (default: a fresh registry). */
  metrics?: Metrics;
  /** Where the per-key rate limits count (shared by all instances with REDIS_URL); absent: in memory. */
  rateLimitStore?: RateLimitStore;
  /** When directory changes are recorded as made (default: now): the seeder dates an org's setup back. */
  directoryEventTime?: Date;
}
