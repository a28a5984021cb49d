/**
 * `GET /healthz`: 200 when OpenSearch answers, 503 otherwise; with the cluster's name, node count and status
 * (store/health.ts).
 */
import { Router } from 'express';
import type { AppContext } from '../context.ts';
import { isServerless } from '../store/connection.ts';
import { engineHealth } from '../store/health.ts';

export function healthRouter({ cfg, store }: AppContext): Router {
  const router = Router();
  router.get('/healthz', async (_req, res) => {
    try {
      res.json({ status: 'ok', opensearch: await engineHealth(store, isServerless(cfg.opensearch)) });
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
