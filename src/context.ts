/**
 * What the domain is handed: the configuration, the store, the sealer's hand-off and the per-instance logger
 * and metrics. Its own module, so that the domain need not import the composition root (app.ts) for it; what
 * only the HTTP layer uses is in http/http-context.ts.
 */
import type { Config } from './config.ts';
import type { Written } from './integrity/written.ts';
import type { Logger } from './observe/log.ts';
import type { Metrics } from './observe/metrics.ts';
import type { Store } from './store/client.ts';

export interface AppContext {
  cfg: Config;
  store: Store;
  /** What this process's write path stored, for its own sealer (absent: the sealer walks the ledger). */
  written?: Written;
  /** The service's logger (default: one built from cfg.logLevel). */
  log?: Logger;
  /** This instance's metrics (default: a fresh registry). */
  metrics?: Metrics;
  /** Told of every API key created, so a cache of unknown key ids forgets it (buildApp sets it). */
  onKeyCreated?: (id: string) => void;
  /** When directory changes are recorded as made (default: now): the seeder dates an org's setup back. */
  directoryEventTime?: Date;
}
