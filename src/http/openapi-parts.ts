/** The pieces the OpenAPI document is built of: error schemas from the catalogue, parameters, operations. */
import type { TSchema } from '@sinclair/typebox';
import { ID_PATTERN } from '../events/schema.ts';
import { ApiError, errors } from './api-errors.ts';

export type Json = Record<string, unknown>;

/** TypeBox schemas carry symbols (Kind, Optional); the document holds plain JSON Schema. */
export const plain = (s: TSchema | Json): Json => JSON.parse(JSON.stringify(s)) as Json;

export const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });

export const json = (schema: Json) => ({ 'application/json': { schema } });

/** Every code of the catalogue with its status, taken by calling each factory (the arguments do not matter). */
export function catalogueCodes(): Map<number, string[]> {
  const byStatus = new Map<number, string[]>();
  for (const make of Object.values(errors) as ((...a: unknown[]) => ApiError)[]) {
    const e = make('x', 'x');
    const codes = byStatus.get(e.status) ?? [];
    if (!codes.includes(e.code)) codes.push(e.code);
    byStatus.set(e.status, codes);
  }
  return byStatus;
}

export const STATUS_TEXT: Record<number, string> = {
  400: 'The request is malformed or a parameter is invalid',
  401: 'Missing, unknown or revoked credentials',
  403: 'The key may not do this',
  404: 'Not found',
  408: 'The request body did not arrive in time',
  409: 'Conflicts with the current state',
  413: 'Body too large',
  415: 'Unsupported Content-Type',
  429: 'Rate limited (see Retry-After)',
  500: 'Server error (the body carries the requestId of the log lines)',
  503: 'OpenSearch unavailable; nothing was acknowledged (see Retry-After)',
};

export function errorSchemas(): Json {
  const out: Json = {};
  for (const [status, codes] of catalogueCodes()) {
    out[`Error${status}`] = {
      type: 'object',
      required: status >= 500 ? ['error', 'code', 'requestId'] : ['error', 'code'],
      properties: {
        error: { type: 'string', description: 'What went wrong and how to fix it' },
        code: { type: 'string', enum: codes },
        param: { type: 'string', description: 'The parameter or field at fault' },
        ...(status >= 500 ? { requestId: { type: 'string' } } : {}),
      },
      additionalProperties: false,
    };
  }
  return out;
}

/** Query parameters from an object schema: one parameter per property, with its schema and requiredness. */
export function queryParams(schema: TSchema, only?: string[]): Json[] {
  const s = plain(schema) as { properties: Record<string, Json>; required?: string[] };
  return Object.entries(s.properties)
    .filter(([name]) => !only || only.includes(name))
    .map(([name, p]) => ({
      name,
      in: 'query',
      // `limit` has a default, so TypeBox lists it as required; the caller may leave it out.
      required: (s.required ?? []).includes(name) && !('default' in p),
      schema: p,
    }));
}

export function pathParams(schema: TSchema): Json[] {
  const s = plain(schema) as { properties: Record<string, Json> };
  return Object.entries(s.properties).map(([name, p]) => ({ name, in: 'path', required: true, schema: p }));
}

export const eventIdParam = {
  name: 'id',
  in: 'path',
  required: true,
  schema: { type: 'string', pattern: ID_PATTERN },
};

export interface Op {
  summary: string;
  tag: 'events' | 'integrity' | 'streams' | 'operator' | 'service';
  operationId: string;
  parameters?: Json[];
  body?: Json;
  ok: Record<number, { description: string; schema?: Json; content?: Json }>;
  errors: number[];
}

export const PUBLIC_ERRORS = [400, 401, 403, 429, 500, 503];

export const OPERATOR_ERRORS = [400, 401, 404, 429, 500, 503];

export function operation(op: Op): Json {
  const responses: Json = {};
  for (const [status, r] of Object.entries(op.ok)) {
    responses[status] = {
      description: r.description,
      ...(r.content ? { content: r.content } : r.schema ? { content: json(r.schema) } : {}),
    };
  }
  for (const status of op.errors) {
    responses[String(status)] = { description: STATUS_TEXT[status], content: json(ref(`Error${status}`)) };
  }
  return {
    operationId: op.operationId,
    summary: op.summary,
    tags: [op.tag],
    security: [op.tag === 'operator' ? { operatorToken: [] } : { apiKey: [] }],
    ...(op.parameters ? { parameters: op.parameters } : {}),
    ...(op.body ? { requestBody: { required: true, content: op.body } } : {}),
    responses,
  };
}
