/**
 * The read endpoints the admin page needs beyond the list, under `/api/v1/audit-logs` (mounted ABOVE the read
 * router, whose `/:id` would otherwise take `histogram`). They accept the list's filter parameters, checked and
 * scoped exactly like the list (the list's schema and hints, `readScope`, `resolveFilters`):
 * - `GET /histogram?<filters>` → `{ interval, intervalMs, total, buckets: [{ start, count }] }`
 * - `GET /facets[?includeDeparted=true]` → `{ actions: [{ value, count, destructive }], resourceTypes: [{ value, count }] }`
 * - `GET /export?format=csv|ndjson&<filters>` → every matching entry, streamed as a download.
 */
import { Type } from '@sinclair/typebox';
import { Router, type Request, type Response } from 'express';
import type { AppContext } from '../context.ts';
import type { HttpContext } from '../http/http-context.ts';
import { readScope, type ReadScope } from '../directory/access.ts';
import { authenticator, principalOf } from '../http/auth.ts';
import { admit, Capacity } from '../http/concurrency.ts';
import { errors } from '../http/api-errors.ts';
import { queryParser } from '../query-string.ts';
import { facets, histogram } from './aggregations.ts';
import { EXPORT_FORMATS, type ExportFormat } from './export-format.ts';
import { streamExport } from '../http/export-stream.ts';
import { LIST_HINTS, LIST_PARAMS, ListQuery, listRequestOf, type ListFilters } from './query-params.ts';
import { resolveFilters } from './filters.ts';
import { iterateEntries } from './search.ts';

/** The list's paging parameters mean nothing to an aggregation or a full export. */
const PAGING_PARAMS = ['limit', 'cursor'] as const;
const FILTERS = Type.Omit(ListQuery, [...PAGING_PARAMS]).properties;

export const HistogramQuery = Type.Object(FILTERS, { additionalProperties: false });
const parseHistogramQuery = queryParser(HistogramQuery, { hints: LIST_HINTS, lists: LIST_PARAMS });

export const ExportQuery = Type.Object(
  {
    format: Type.Unsafe<ExportFormat>(Type.String({ enum: Object.keys(EXPORT_FORMATS), default: 'csv' })),
    ...FILTERS,
  },
  { additionalProperties: false },
);
const parseExportQuery = queryParser(ExportQuery, {
  hints: { ...LIST_HINTS, format: 'format must be csv or ndjson.' },
  lists: LIST_PARAMS,
});

export const FacetsQuery = Type.Pick(ListQuery, ['includeDeparted']);
const parseFacetsQuery = queryParser(FacetsQuery, { hints: LIST_HINTS });

/** The query string without paging parameters, which are refused by name (they belong to the list). */
function withoutPaging(req: Request): Record<string, unknown> {
  const raw = req.query as Record<string, unknown>;
  for (const name of PAGING_PARAMS) {
    if (name in raw) {
      throw errors.invalidParam(
        name,
        `${name} pages GET /api/v1/audit-logs; ${req.path} always covers every match, so leave ${name} out.`,
      );
    }
  }
  return raw;
}

async function scopedFilters(
  ctx: AppContext,
  res: Response,
  query: Parameters<typeof listRequestOf>[0],
): Promise<{ filters: ListFilters; scope: ReadScope }> {
  const request = listRequestOf(query);
  const scope = await readScope(ctx, principalOf(res), request.filters.workspaceId);
  return { filters: await resolveFilters(ctx, scope, request), scope };
}

export function pageReadRouter(ctx: HttpContext): Router {
  const auth = authenticator(ctx)('api-key');
  const router = Router();

  router.get('/histogram', auth, async (req, res) => {
    const { filters, scope } = await scopedFilters(ctx, res, parseHistogramQuery(withoutPaging(req)));
    res.json(await histogram(ctx.store, filters, scope));
  });

  router.get('/facets', auth, async (req, res) => {
    const { includeDeparted } = parseFacetsQuery(req.query as Record<string, unknown>);
    const scope = await readScope(ctx, principalOf(res));
    res.json(await facets(ctx.store, scope, includeDeparted === true));
  });

  // An export holds a search page and a chunk for as long as its client takes: their number is bounded.
  const exporting = admit(new Capacity(ctx.cfg.exportConcurrency), () =>
    errors.exportBusy(ctx.cfg.exportConcurrency),
  );
  router.get('/export', auth, exporting, async (req, res) => {
    const { format, ...query } = parseExportQuery(withoutPaging(req));
    const { filters, scope } = await scopedFilters(ctx, res, query);
    const stamp = new Date().toISOString().slice(0, 19).replace(/[-:]/g, '');
    await streamExport(
      res,
      iterateEntries(ctx.store, filters, scope),
      format,
      `audit-logs-${scope.orgId}-${stamp}`,
    );
  });

  return router;
}
