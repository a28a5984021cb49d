/** What the service reports of OpenSearch at `GET /healthz`: never a credential or a node URL. */
import { guarded, type Store } from './client.ts';
import { AUDIT_INDEX_PATTERN, INTERNAL, MONTH_INDEX_PREFIX } from './names.ts';

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
    await guarded(store.indices.exists({ index: INTERNAL.service }, PROBE));
    return { status: 'serverless' };
  }
  const [info, health] = await guarded(Promise.all([store.info({}, PROBE), store.cluster.health({}, PROBE)]));
  return {
    status: health.body.status,
    version: info.body.version.number,
    cluster: health.body.cluster_name,
    nodes: health.body.number_of_nodes,
  };
}

/**
 * The service's indices that a full disk made refuse writes (the flood-stage `read_only_allow_delete` block),
 * sorted; throws like engineHealth. Serverless manages disk itself and has no index settings: none.
 */
export async function diskBlockedIndices(store: Store, serverless: boolean): Promise<string[]> {
  if (serverless) return [];
  const res = await guarded(
    store.indices.getSettings(
      {
        index: [...Object.values(INTERNAL), AUDIT_INDEX_PATTERN, `${MONTH_INDEX_PREFIX}*`].join(','),
        name: 'index.blocks.read_only_allow_delete',
        flat_settings: true,
        expand_wildcards: 'all',
        allow_no_indices: true,
        ignore_unavailable: true,
      },
      PROBE,
    ),
  );
  const body = res.body as Record<string, { settings?: Record<string, string> }>;
  return Object.entries(body)
    .filter(([, { settings }]) => settings?.['index.blocks.read_only_allow_delete'] === 'true')
    .map(([index]) => index)
    .sort();
}
