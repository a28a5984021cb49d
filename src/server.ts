/** Runs the service: applies templates, serves HTTP, and runs the background jobs. */
import type { AddressInfo } from 'node:net';
import { buildApp } from './app.ts';
import type { Config } from './config.ts';
import { Sealer, sealerOptions } from './integrity/sealer.ts';
import { loadSigningKey } from './integrity/signing.ts';
import { Written } from './integrity/written.ts';
import { startLifecycleSweep } from './lifecycle/sweep.ts';
import { sharedRateLimitStore, type SharedRateLimitStore } from './http/rate-limit.ts';
import { applyTemplates, type Change } from './store/bootstrap.ts';
import { createStore, type Store } from './store/client.ts';
import { checkConnection, connectionConfig, startupError } from './store/connection.ts';

export interface RunningService {
  url: string;
  store: Store;
  changes: Change[];
  /** Absent when AUDIT_SEALING=false. */
  sealer?: Sealer;
  close(): Promise<void>;
  /** Stops abruptly, as a killed process would: no handover of the sealer lease, requests in flight cut. */
  kill(): Promise<void>;
}

export async function startService(cfg: Config & { opensearchUrl: string }): Promise<RunningService> {
  const conn = connectionConfig(cfg, cfg.opensearchUrl);
  const store = createStore(conn);
  let changes: Change[];
  try {
    await checkConnection(store, conn);
    changes = await applyTemplates(store, cfg);
  } catch (err) {
    await store.close(); // open sockets would keep a failed start from exiting
    throw startupError(err, conn);
  }
  let shared: SharedRateLimitStore | undefined;
  try {
    shared = cfg.redisUrl ? await sharedRateLimitStore(cfg.redisUrl) : undefined;
  } catch (err) {
    await store.close();
    throw err;
  }
  // What this instance's write path stores, handed to its own sealer (written.ts).
  const written = cfg.sealing ? new Written() : undefined;
  const app = buildApp({ cfg, store, written, rateLimitStore: shared?.store });
  const server = app.listen(cfg.port);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  const sealer = cfg.sealing
    ? new Sealer({ store, written }, loadSigningKey(cfg), sealerOptions(cfg.sealIntervalMs))
    : undefined;
  if (sealer) sealer.start();
  else console.warn('AUDIT_SEALING=false: new events are not sealed until a service runs with sealing on');
  const sweep = cfg.lifecycleSweepMs > 0 ? startLifecycleSweep(store, cfg) : undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    store,
    changes,
    sealer,
    async close() {
      await sweep?.stop();
      await sealer?.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await shared?.close();
      await store.close();
    },
    async kill() {
      void sweep?.stop();
      sealer?.halt();
      server.close();
      server.closeAllConnections();
      await shared?.close();
      await store.close();
    },
  };
}
