/**
 * `GET /healthz`: 200 when OpenSearch answers, 503 otherwise; with the cluster's name, node count and status
 * (never a credential or node URL). Serverless (aoss) has no cluster health: an index existence check stands in.
 */
import { Router } from 'express';
import type { AppContext } from '../context.ts';
import { isServerless } from '../store/connection.ts';

export function healthRouter({ cfg, store }: AppContext): Router {
  const router = Router();
  router.get('/healthz', async (_req, res) => {
    try {
      if (isServerless(cfg.opensearch)) {
        await store.indices.exists(
          { index: 'audit-internal-service' },
          { requestTimeout: 5000, maxRetries: 0 },
        );
        res.json({ status: 'ok', opensearch: { status: 'serverless' } });
        return;
      }
      const [info, health] = await Promise.all([
        store.info({}, { requestTimeout: 5000, maxRetries: 0 }),
        store.cluster.health({}, { requestTimeout: 5000, maxRetries: 0 }),
      ]);
      res.json({
        status: 'ok',
        opensearch: {
          status: health.body.status,
          version: info.body.version.number,
          cluster: health.body.cluster_name,
          nodes: health.body.number_of_nodes,
        },
      });
    } catch {
      res
        .status(503)
        .set('Retry-After', '5')
        .json({
          status: 'unavailable',
          opensearch: { status: 'unreachable' },
          requestId: res.locals.requestId as string,
        });
    }
  });
  return router;
}
