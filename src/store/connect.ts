/** How scripts reach OpenSearch: OPENSEARCH_URL, else the running local engine (`npm start` / `npm run engine`). */
import type { Config } from '../config.ts';
import { LocalEngine } from '../engine/engine.ts';
import { applyTemplates } from './bootstrap.ts';
import { createStore, type Store } from './client.ts';

export async function connectForScript(cfg: Config): Promise<{ store: Store; url: string; close(): Promise<void> }> {
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
  await applyTemplates(store, cfg);
  return { store, url, close: () => store.close() };
}
