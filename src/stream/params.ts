/**
 * The query string of `GET /api/v1/audit-logs/stream`: the list endpoint's filter schemas where they make
 * sense for a feed (action, resourceType, workspaceId, actorId), a larger page, and the stream cursor.
 * Date ranges and free text do not: a SIEM follows everything in acceptance order and filters on its side.
 */
import { Type, type Static } from '@sinclair/typebox';
import { errors } from '../http/errors.ts';
import { queryValidator } from '../http/validate.ts';
import { ListQuery, sortedUnique } from '../query/params.ts';
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
type StreamQuery = Static<typeof StreamQuery>;

const validate = queryValidator(StreamQuery);

const HINTS: Record<string, string> = {
  action: 'action must be an event type such as workflow.created, or a comma-separated list of them.',
  resourceType: 'resourceType must be a resource type such as workflow, or a comma-separated list of them.',
  workspaceId: 'workspaceId must be a workspace id (letters, digits, _ . : -, at most 128 characters).',
  actorId: 'actorId must be a user id (letters, digits, _ . : -, at most 128 characters).',
  limit: `limit must be an integer from 1 to ${STREAM_MAX_LIMIT} (default ${STREAM_DEFAULT_LIMIT}).`,
  cursor: 'cursor must be the nextCursor of a previous stream page, unchanged.',
};
const LIST_PARAMS = new Set(['action', 'resourceType']);

export interface StreamRequest {
  filters: StreamFilters;
  limit: number;
  cursor?: string;
}

export function parseStreamQuery(raw: Record<string, unknown>): StreamRequest {
  const flat: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (!(name in StreamQuery.properties)) {
      throw errors.unknownParam(name);
    }
    if (Array.isArray(value) && !LIST_PARAMS.has(name)) {
      throw errors.invalidParam(name, `${name} was given more than once; give it once.`);
    }
    flat[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const invalid = validate(flat);
  if (invalid) {
    const param = invalid.instancePath.replace(/^\//, '').split('/')[0] ?? '';
    throw errors.invalidParam(param, HINTS[param] ?? `${param} is invalid.`);
  }
  const q = flat as StreamQuery;
  return {
    filters: {
      ...(q.action !== undefined ? { actions: sortedUnique(q.action) } : {}),
      ...(q.resourceType !== undefined ? { resourceTypes: sortedUnique(q.resourceType) } : {}),
      ...(q.workspaceId !== undefined ? { workspaceId: q.workspaceId } : {}),
      ...(q.actorId !== undefined ? { actorId: q.actorId } : {}),
    },
    limit: q.limit,
    ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
  };
}
