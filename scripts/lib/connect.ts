/** How scripts reach OpenSearch: OPENSEARCH_URL (with the access options of connection.ts), else the running local engine (`npm start` / `npm run engine`). */
import type { Config } from '../../src/config.ts';
import { LocalCluster } from './engine/cluster.ts';
import { LocalEngine } from './engine/engine.ts';
import type { Change } from '../../src/store/bootstrap.ts';
import type { Store } from '../../src/store/client.ts';
import { describeNodes } from '../../src/store/connection.ts';
import { openStore } from '../../src/store/open.ts';

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
  // What applying the templates changed (`npm run setup` reports it).
  const { store, conn, changes } = await openStore(cfg, url);
  // `url` is for messages: credentials masked.
  return { store, url: describeNodes(conn), changes, close: () => store.close() };
}
