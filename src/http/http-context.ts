/** What the HTTP layer is handed on top of the domain's context: its authentication guard and rate-limit store. */
import type { Store as RateLimitStore } from 'express-rate-limit';
import type { AppContext } from '../context.ts';
import type { AuthGuard } from './auth-guard.ts';

export interface HttpContext extends AppContext {
  /** Negative key cache and failed-authentication limit; buildApp adds one (absent in scripts: no caching). */
  authGuard?: AuthGuard;
  /** Where the per-key rate limits count (shared by all instances with REDIS_URL); absent: in memory. */
  rateLimitStore?: RateLimitStore;
}
