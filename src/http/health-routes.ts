/**
 * `GET /healthz`: 200 when OpenSearch answers, 503 otherwise; with the cluster's name, node count and status
 * (observe/storage-health.ts). 200 `degraded` when OpenSearch answers but refuses writes for lack of disk space: reads
 * are still served, so a load balancer keeps the instance, while a monitor sees that ingest is failing.
 */
import { Router } from 'express';
import type { AppContext } from '../context.ts';
import { storageHealth } from '../observe/storage-health.ts';

export function healthRouter(ctx: AppContext): Router {
  const router = Router();
  router.get('/healthz', async (_req, res) => {
    try {
      const { opensearch, diskBlocked: full } = await storageHealth(ctx);
      if (full.length === 0) {
        res.json({ status: 'ok', opensearch });
        return;
      }
      res.json({
        status: 'degraded',
        opensearch,
        problems: [
          {
            code: 'storage_full',
            message:
              'OpenSearch is out of disk space (flood-stage watermark): these indices refuse writes, so ingest ' +
              'answers 503 storage_full until disk space is freed.',
            indices: full,
          },
        ],
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
