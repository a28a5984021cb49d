/**
 * The query string of `GET /api/v1/audit-logs`: one TypeBox schema (read by the one query parser,
 * src/query-string.ts), and its normalization into `ListFilters` — the form the query builder and the cursor binding both use, so two
 * spellings of the same question (`action=b,a` / `action=a&action=b`) are the same query.
 */
import { DAY_MS } from '../days.ts';
import { Type, type Static } from '@sinclair/typebox';
import { InvalidInput } from '../errors.ts';
import { ACTION_PATTERN, ID_PATTERN, RESOURCE_TYPE_PATTERN } from '../events/schema.ts';
import { queryParser } from '../query-string.ts';

/** `^x$` → `^x(,x)*$`: a comma-separated list of values that each match `pattern`. */
function listOf(pattern: string): string {
  const inner = pattern.replace(/^\^/, '').replace(/\$$/, '');
  return `^(${inner})(,(${inner}))*$`;
}

export const MAX_LIMIT = 100;
export const DEFAULT_LIMIT = 50;
export const MAX_SEARCH_LENGTH = 200;

const ISO_DATE = Type.Union([Type.String({ format: 'date' }), Type.String({ format: 'date-time' })]);

export const ListQuery = Type.Object(
  {
    action: Type.Optional(Type.String({ pattern: listOf(ACTION_PATTERN), maxLength: 2000 })),
    resourceType: Type.Optional(Type.String({ pattern: listOf(RESOURCE_TYPE_PATTERN), maxLength: 2000 })),
    resourceId: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    workspaceId: Type.Optional(Type.String({ pattern: ID_PATTERN })),
    actorId: Type.Optional(Type.String({ pattern: ID_PATTERN })),
    startDate: Type.Optional(ISO_DATE),
    endDate: Type.Optional(ISO_DATE),
    includeDeparted: Type.Optional(Type.Boolean()),
    limit: Type.Integer({ minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT }),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
    search: Type.Optional(Type.String({ maxLength: MAX_SEARCH_LENGTH })),
  },
  { additionalProperties: false },
);
export type ListQuery = Static<typeof ListQuery>;

/** Parameters that may be repeated (`action=a&action=b`), meaning the same as a comma-separated list. */
export const LIST_PARAMS = ['action', 'resourceType'];

/** What the filters of a list request mean, normalized (sorted, deduplicated lists; dates as instants). */
export interface ListFilters {
  actions?: string[];
  resourceTypes?: string[];
  resourceId?: string;
  workspaceId?: string;
  actorId?: string;
  /** Inclusive bounds on createdAt. */
  start?: Date;
  end?: Date;
  /** Whether events of members who have left the org are included (already resolved, see filters.ts). */
  includeDeparted: boolean;
  /** Free text, trimmed; absent when blank. */
  search?: string;
}

export interface ListRequest {
  filters: ListFilters;
  /** Whether the caller wrote `includeDeparted` at all (an explicit `false` conflicts with a departed actorId). */
  includeDepartedGiven: boolean;
  limit: number;
  cursor?: string;
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/** What each list parameter must be, said when its value is refused (the stream and the page reuse them). */
export const LIST_HINTS: Record<keyof ListQuery, string> = {
  action: 'action must be an event type such as workflow.created, or a comma-separated list of them.',
  resourceType: 'resourceType must be a resource type such as workflow, or a comma-separated list of them.',
  resourceId: 'resourceId must be 1–256 characters.',
  workspaceId: 'workspaceId must be a workspace id (letters, digits, _ . : -, at most 128 characters).',
  actorId: 'actorId must be a user id (letters, digits, _ . : -, at most 128 characters).',
  startDate:
    'startDate must be an ISO 8601 date (2026-04-20) or date-time with a time zone (2026-04-20T21:16:00Z).',
  endDate:
    'endDate must be an ISO 8601 date (2026-04-20) or date-time with a time zone (2026-04-20T21:16:00Z).',
  includeDeparted: 'includeDeparted must be true or false.',
  limit: `limit must be an integer from 1 to ${MAX_LIMIT} (default ${DEFAULT_LIMIT}).`,
  cursor: 'cursor must be the nextCursor of a previous page, unchanged.',
  search: `search must be at most ${MAX_SEARCH_LENGTH} characters.`,
};

export function sortedUnique(list: string | undefined): string[] | undefined {
  return list === undefined ? undefined : [...new Set(list.split(','))].sort();
}

/** The action and resourceType filters, as the list and the stream both take them. */
export function typeFilters(q: Pick<ListQuery, 'action' | 'resourceType'>) {
  return {
    ...(q.action !== undefined ? { actions: sortedUnique(q.action) } : {}),
    ...(q.resourceType !== undefined ? { resourceTypes: sortedUnique(q.resourceType) } : {}),
  };
}

/** The workspaceId and actorId filters, as the list and the stream both take them. */
export function whoFilters(q: Pick<ListQuery, 'workspaceId' | 'actorId'>) {
  return {
    ...(q.workspaceId !== undefined ? { workspaceId: q.workspaceId } : {}),
    ...(q.actorId !== undefined ? { actorId: q.actorId } : {}),
  };
}

const parseQuery = queryParser(ListQuery, { hints: LIST_HINTS, lists: LIST_PARAMS });

/** Validates and normalizes a parsed query string (values are strings, or arrays when a name repeats). */
export function parseListQuery(raw: Record<string, unknown>): ListRequest {
  const q = parseQuery(raw);
  return { ...listRequestOf(q), limit: q.limit, ...(q.cursor !== undefined ? { cursor: q.cursor } : {}) };
}

/** The filters of a parsed list query, normalized (the page's histogram and export take them without paging). */
export function listRequestOf(q: Omit<ListQuery, 'limit' | 'cursor'>): Omit<ListRequest, 'limit' | 'cursor'> {
  const start = q.startDate === undefined ? undefined : new Date(q.startDate);
  let end: Date | undefined;
  if (q.endDate !== undefined) {
    // A date-only endDate means "on or before that day": up to its last millisecond (UTC).
    end = DATE_ONLY.test(q.endDate) ? new Date(Date.parse(q.endDate) + DAY_MS - 1) : new Date(q.endDate);
  }
  if (start && end && start.getTime() > end.getTime()) {
    throw new InvalidInput(`startDate (${q.startDate}) is after endDate (${q.endDate}).`, 'startDate');
  }
  const search = q.search?.trim();
  return {
    filters: {
      ...typeFilters(q),
      ...(q.resourceId !== undefined ? { resourceId: q.resourceId } : {}),
      ...whoFilters(q),
      ...(start ? { start } : {}),
      ...(end ? { end } : {}),
      includeDeparted: q.includeDeparted ?? false,
      ...(search ? { search } : {}),
    },
    includeDepartedGiven: q.includeDeparted !== undefined,
  };
}
