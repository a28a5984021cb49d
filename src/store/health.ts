/** What the service reports of OpenSearch at `GET /healthz`: never a credential or a node URL. */
import type { Store } from './client.ts';
import { INTERNAL } from './names.ts';

export interface EngineHealth {
  status: string;
  version?: string;
  cluster?: string;
  nodes?: number;
}

const PROBE = { requestTimeout: 5000, maxRetries: 0 };

/**
 * The cluster's health, name, version and node count; throws when OpenSearch does not answer within 5 s.
 * Serverless (aoss) has no cluster health: an index existence check stands in.
 */
export async function engineHealth(store: Store, serverless: boolean): Promise<EngineHealth> {
  if (serverless) {
    await store.indices.exists({ index: INTERNAL.service }, PROBE);
    return { status: 'serverless' };
  }
  const [info, health] = await Promise.all([store.info({}, PROBE), store.cluster.health({}, PROBE)]);
  return {
    status: health.body.status,
    version: info.body.version.number,
    cluster: health.body.cluster_name,
    nodes: health.body.number_of_nodes,
  };
}
