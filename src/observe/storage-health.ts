/** What `GET /healthz` reports of OpenSearch: never a credential or a node URL. */
import type { AppContext } from '../context.ts';
import { isServerless } from '../store/connection.ts';
import { diskBlockedIndices, engineHealth, type EngineHealth } from '../store/health.ts';

/**
 * The cluster's health, and the service's indices a full disk made refuse writes (sorted); throws when
 * OpenSearch does not answer within 5 s.
 */
export async function storageHealth(
  ctx: Pick<AppContext, 'cfg' | 'store'>,
): Promise<{ opensearch: EngineHealth; diskBlocked: string[] }> {
  const serverless = isServerless(ctx.cfg.opensearch);
  const [opensearch, diskBlocked] = await Promise.all([
    engineHealth(ctx.store, serverless),
    diskBlockedIndices(ctx.store, serverless),
  ]);
  return { opensearch, diskBlocked };
}
