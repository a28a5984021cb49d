/**
 * The API endpoints the admin page needs beyond the list, under `/api/v1/audit-logs` (mounted ABOVE the read
 * router, whose `/:id` would otherwise take `histogram`). They accept the list's filter parameters, checked and
 * scoped exactly like the list (`parseListQuery`, `readScope`, `resolveFilters`):
 * - `GET /histogram?<filters>` → `{ interval, intervalMs, total, buckets: [{ start, count }] }`
 * - `GET /facets[?includeDeparted=true]` → `{ actions: [{ value, count, destructive }], resourceTypes: [{ value, count }] }`
 * - `GET /export?format=csv|ndjson&<filters>` → every matching entry, streamed as a download.
 */
import { Router, type Request, type Response } from 'express';
import type { AppContext } from '../context.ts';
import { readScope, type ReadScope } from '../directory/access.ts';
import { authenticator, principalOf } from '../http/auth.ts';
import { errors } from '../http/errors.ts';
import { parseListQuery, type ListFilters } from '../query/params.ts';
import { resolveFilters } from '../query/routes.ts';
import { iterateEntries } from '../query/search.ts';
import { facets, histogram } from './aggregations.ts';
import { EXPORT_FORMATS, streamExport, type ExportFormat } from './export.ts';

/** The list's paging parameters mean nothing to an aggregation or a full export. */
const PAGING_PARAMS = ['limit', 'cursor'];

async function scopedFilters(
  ctx: AppContext,
  req: Request,
  res: Response,
  own: string[] = [],
): Promise<{ filters: ListFilters; scope: ReadScope }> {
  const raw = { ...(req.query as Record<string, unknown>) };
  for (const name of PAGING_PARAMS) {
    if (name in raw) {
      throw errors.invalidParam(
        name,
        `${name} pages GET /api/v1/audit-logs; ${req.path} always covers every match, so leave ${name} out.`,
      );
    }
  }
  for (const name of own) delete raw[name];
  const request = parseListQuery(raw);
  const scope = await readScope(ctx, principalOf(res), request.filters.workspaceId);
  return { filters: await resolveFilters(ctx, scope, request), scope };
}

export function pageApiRouter(ctx: AppContext): Router {
  const auth = authenticator(ctx)('api-key');
  const router = Router();

  router.get('/histogram', auth, async (req, res) => {
    const { filters, scope } = await scopedFilters(ctx, req, res);
    res.json(await histogram(ctx.store, filters, scope));
  });

  router.get('/facets', auth, async (req, res) => {
    const { includeDeparted, ...rest } = req.query as Record<string, unknown>;
    const unknown = Object.keys(rest)[0];
    if (unknown !== undefined) throw errors.unknownParam(unknown);
    if (includeDeparted !== undefined && includeDeparted !== 'true' && includeDeparted !== 'false') {
      throw errors.invalidParam('includeDeparted', 'includeDeparted must be true or false.');
    }
    const scope = await readScope(ctx, principalOf(res));
    res.json(await facets(ctx.store, scope, includeDeparted === 'true'));
  });

  router.get('/export', auth, async (req, res) => {
    const format = req.query.format ?? 'csv';
    if (typeof format !== 'string' || !(format in EXPORT_FORMATS)) {
      throw errors.invalidParam('format', 'format must be csv or ndjson.');
    }
    const { filters, scope } = await scopedFilters(ctx, req, res, ['format']);
    const stamp = new Date().toISOString().slice(0, 19).replace(/[-:]/g, '');
    await streamExport(
      res,
      iterateEntries(ctx.store, filters, scope),
      format as ExportFormat,
      `audit-logs-${scope.orgId}-${stamp}`,
    );
  });

  return router;
}
