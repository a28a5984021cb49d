/** How scripts reach OpenSearch: OPENSEARCH_URL (with the access options of connection.ts), else the running local engine (`npm start` / `npm run engine`). */
import type { Config } from '../config.ts';
import { LocalCluster } from '../engine/cluster.ts';
import { LocalEngine } from '../engine/engine.ts';
import { applyTemplates, type Change } from './bootstrap.ts';
import { createStore, type Store } from './client.ts';
import { checkConnection, connectionConfig, describeNodes, startupError } from './connection.ts';

export async function connectForScript(
  cfg: Config,
): Promise<{ store: Store; url: string; changes: Change[]; close(): Promise<void> }> {
  let url = cfg.opensearchUrl;
  if (!url) {
    // The single local engine, else a local cluster (`npm run engine -- start --nodes N`).
    url =
      new LocalEngine(cfg.engine, { instance: 'default' }).running()?.url ??
      (new LocalCluster(cfg.engine, { instance: 'default' }).urls().join(',') || undefined);
    if (!url) {
      throw new Error(
        'No OpenSearch to talk to: set OPENSEARCH_URL, or start the local engine with `npm start` or ' +
          '`npm run engine -- start` (a local cluster: `npm run engine -- start --nodes 3`).',
      );
    }
  }
  const conn = connectionConfig(cfg, url);
  const store = createStore(conn);
  // What applying the templates changed (`npm run setup` reports it).
  let changes: Change[];
  try {
    await checkConnection(store, conn);
    changes = await applyTemplates(store, cfg);
  } catch (err) {
    await store.close(); // open sockets would keep a failed script from exiting
    throw startupError(err, conn);
  }
  // `url` is for messages: credentials masked.
  return { store, url: describeNodes(conn), changes, close: () => store.close() };
}
