/** How scripts reach OpenSearch: OPENSEARCH_URL, else the running local engine (`npm start` / `npm run engine`). */
import type { Config } from '../config.ts';
import { LocalEngine } from '../engine/engine.ts';
import { applyTemplates, type Change } from './bootstrap.ts';
import { createStore, isUnavailable, type Store } from './client.ts';

export async function connectForScript(
  cfg: Config,
): Promise<{ store: Store; url: string; changes: Change[]; close(): Promise<void> }> {
  let url = cfg.opensearchUrl;
  if (!url) {
    url = new LocalEngine(cfg.engine, { instance: 'default' }).running()?.url;
    if (!url) {
      throw new Error(
        'No OpenSearch to talk to: set OPENSEARCH_URL, or start the local engine with `npm start` or ' +
          '`npm run engine -- start`.',
      );
    }
  }
  const store = createStore(url);
  // What applying the templates changed (`npm run setup` reports it).
  let changes: Change[];
  try {
    changes = await applyTemplates(store, cfg);
  } catch (err) {
    await store.close(); // open sockets would keep a failed script from exiting
    if (isUnavailable(err)) throw new Error(`cannot reach OpenSearch at ${url}: ${(err as Error).message}`);
    throw err;
  }
  return { store, url, changes, close: () => store.close() };
}
