/**
 * Opens the store for the service and the scripts alike: a client for the configured access, a check that the
 * cluster answers and lets us in (each failure one line naming what to fix), then the templates applied and
 * any record of an org with `:` in its id moved to its unambiguous id (org-record-ids.ts).
 */
import type { Config } from '../config.ts';
import { applyTemplates, type Change } from './bootstrap.ts';
import { createStore, type Store } from './client.ts';
import { migrateOrgRecordIds } from './org-record-ids.ts';
import { checkConnection, connectionConfig, startupError, type ConnectionConfig } from './connection.ts';

export async function openStore(
  cfg: Config,
  url: string,
  /** Called with the client before its first request (e.g. to count its errors). */
  watch: (store: Store) => void = () => undefined,
): Promise<{ store: Store; conn: ConnectionConfig; changes: Change[] }> {
  const conn = connectionConfig(cfg, url);
  const store = createStore(conn);
  watch(store);
  try {
    await checkConnection(store, conn);
    const changes = await applyTemplates(store, cfg);
    return { store, conn, changes: [...changes, ...(await migrateOrgRecordIds(store))] };
  } catch (err) {
    await store.close(); // open sockets would keep a failed start from exiting
    throw startupError(err, conn);
  }
}
