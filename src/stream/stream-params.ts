/**
 * The query string of `GET /api/v1/audit-logs/stream`: the list endpoint's filter schemas where they make
 * sense for a feed (action, resourceType, workspaceId, actorId), a larger page, and the stream cursor.
 * Date ranges and free text do not: a SIEM follows everything in acceptance order and filters on its side.
 */
import { Type } from '@sinclair/typebox';
import { LIST_HINTS, LIST_PARAMS, ListQuery, typeFilters, whoFilters } from '../query/query-params.ts';
import { queryParser } from '../query-string.ts';
import type { StreamFilters } from './read.ts';

export const STREAM_MAX_LIMIT = 1000;
export const STREAM_DEFAULT_LIMIT = 100;

export const StreamQuery = Type.Object(
  {
    ...Type.Pick(ListQuery, ['action', 'resourceType', 'workspaceId', 'actorId', 'cursor']).properties,
    limit: Type.Integer({ minimum: 1, maximum: STREAM_MAX_LIMIT, default: STREAM_DEFAULT_LIMIT }),
  },
  { additionalProperties: false },
);

const parseQuery = queryParser(StreamQuery, {
  hints: {
    ...LIST_HINTS,
    limit: `limit must be an integer from 1 to ${STREAM_MAX_LIMIT} (default ${STREAM_DEFAULT_LIMIT}).`,
    cursor: 'cursor must be the nextCursor of a previous stream page, unchanged.',
  },
  lists: LIST_PARAMS,
});

export interface StreamRequest {
  filters: StreamFilters;
  limit: number;
  cursor?: string;
}

export function parseStreamQuery(raw: Record<string, unknown>): StreamRequest {
  const q = parseQuery(raw);
  return {
    filters: { ...typeFilters(q), ...whoFilters(q) },
    limit: q.limit,
    ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
  };
}
