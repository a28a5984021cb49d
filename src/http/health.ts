/** `GET /healthz`: 200 when OpenSearch answers, 503 otherwise. */
import { Router } from 'express';
import type { AppContext } from '../context.ts';

export function healthRouter({ store }: AppContext): Router {
  const router = Router();
  router.get('/healthz', async (_req, res) => {
    try {
      const [info, health] = await Promise.all([
        store.info({}, { requestTimeout: 5000, maxRetries: 0 }),
        store.cluster.health({}, { requestTimeout: 5000, maxRetries: 0 }),
      ]);
      res.json({
        status: 'ok',
        opensearch: { status: health.body.status, version: info.body.version.number },
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
