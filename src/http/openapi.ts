/**
 * The OpenAPI 3.1 document of the public API and the operator API, served at GET /api/v1/openapi.json. It is
 * built from the schemas the service validates with (events, list/stream/checkpoint query, directory bodies) and
 * from the error catalogue itself, so it cannot drift from what the service checks and answers.
 */
import type { TSchema } from '@sinclair/typebox';
import { Type } from '@sinclair/typebox';
import * as D from '../directory/schemas.ts';
import { AuditEntry, EventInput, ID_PATTERN } from '../events/schema.ts';
import { MAX_EVENTS } from '../ingest/ingest-routes.ts';
import { Checkpoint } from '../integrity/checkpoint.ts';
import {
  CheckpointQuery,
  ConsistencyQuery,
  ProofQuery,
  SignedCheckpointQuery,
} from '../integrity/integrity-routes.ts';
import { ExportQuery, FacetsQuery, HistogramQuery } from '../query/page-routes.ts';
import { ListQuery } from '../query/query-params.ts';
import { StreamQuery } from '../stream/stream-params.ts';
import { ApiError, errors } from './api-errors.ts';

type Json = Record<string, unknown>;

/** TypeBox schemas carry symbols (Kind, Optional); the document holds plain JSON Schema. */
const plain = (s: TSchema | Json): Json => JSON.parse(JSON.stringify(s)) as Json;
const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });

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

const STATUS_TEXT: Record<number, string> = {
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

function errorSchemas(): Json {
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

const ApiKeyRecord = Type.Object(
  {
    id: Type.String(),
    kind: Type.String({ enum: ['personal', 'workspace', 'ingest'] }),
    orgId: Type.Optional(Type.String()),
    userId: Type.Optional(Type.String()),
    workspaceId: Type.Optional(Type.String()),
    createdBy: Type.Optional(Type.String()),
    createdAt: Type.String({ format: 'date-time' }),
    revokedAt: Type.Optional(Type.String({ format: 'date-time' })),
  },
  { additionalProperties: false },
);

const Hex64 = Type.String({ pattern: '^[0-9a-f]{64}$' });

const schemas: Json = {
  EventInput: plain(EventInput),
  AuditEntry: plain(AuditEntry),
  Checkpoint: plain(Checkpoint),
  IngestBatch: {
    type: 'object',
    required: ['events'],
    properties: { events: { type: 'array', minItems: 1, maxItems: MAX_EVENTS, items: ref('EventInput') } },
    additionalProperties: false,
  },
  IngestResults: {
    type: 'object',
    required: ['results'],
    properties: {
      results: {
        type: 'array',
        description: 'One result per posted event, in input order',
        items: {
          type: 'object',
          required: ['id', 'status'],
          properties: {
            id: { type: ['string', 'null'] },
            status: { type: 'string', enum: ['created', 'duplicate', 'rejected'] },
            error: { type: 'string' },
          },
          additionalProperties: false,
        },
      },
    },
    additionalProperties: false,
  },
  ListPage: {
    type: 'object',
    required: ['data'],
    properties: {
      data: { type: 'array', items: ref('AuditEntry') },
      nextCursor: { type: 'string', description: 'Absent on the last page' },
    },
    additionalProperties: false,
  },
  StreamPage: {
    type: 'object',
    required: ['data', 'nextCursor', 'caughtUp'],
    properties: {
      data: { type: 'array', items: ref('AuditEntry') },
      nextCursor: { type: 'string' },
      caughtUp: { type: 'boolean', description: 'Nothing more is sealed yet: poll again later' },
    },
    additionalProperties: false,
  },
  CheckpointPage: {
    type: 'object',
    required: ['data'],
    properties: { data: { type: 'array', items: ref('ListedCheckpoint') }, nextCursor: { type: 'string' } },
    additionalProperties: false,
  },
  ListedCheckpoint: {
    ...(plain(Checkpoint) as Json),
    properties: {
      ...(plain(Checkpoint) as { properties: Json }).properties,
      size: { type: 'integer', minimum: 1, description: "The org tree's size after this seal" },
      note: { type: 'string', description: 'The signed checkpoint of that size (C2SP signed note)' },
    },
  },
  ConsistencyProof: {
    type: 'object',
    required: ['from', 'to', 'proof'],
    properties: {
      from: { type: 'integer', minimum: 1 },
      to: { type: 'integer', minimum: 1 },
      proof: { type: 'array', items: { type: 'string', description: 'base64 SHA-256' } },
    },
    additionalProperties: false,
  },
  PublicKey: {
    type: 'object',
    required: ['algorithm', 'keyId', 'publicKeyPem', 'verifierKey', 'keys'],
    properties: {
      algorithm: { const: 'Ed25519' },
      keyId: { type: 'string' },
      publicKeyPem: { type: 'string' },
      verifierKey: { type: 'string', description: "The org log's verifier key (c2sp.org/signed-note)" },
      keys: {
        type: 'array',
        description: 'Every key the log has used, oldest first, each valid in [validFrom, validUntil)',
        items: {
          type: 'object',
          required: ['keyId', 'publicKeyPem', 'verifierKey', 'validFrom', 'validUntil'],
          properties: {
            keyId: { type: 'string' },
            publicKeyPem: { type: 'string' },
            verifierKey: { type: 'string' },
            validFrom: { type: 'string', format: 'date-time' },
            validUntil: {
              type: ['string', 'null'],
              format: 'date-time',
              description: 'null while it has no end',
            },
          },
          additionalProperties: false,
        },
      },
    },
    additionalProperties: false,
  },
  Proof: {
    oneOf: [
      {
        type: 'object',
        required: ['status', 'id'],
        properties: { status: { const: 'pending' }, id: { type: 'string' } },
        additionalProperties: false,
      },
      {
        type: 'object',
        required: [
          'status',
          'entry',
          'storedHash',
          'leaf',
          'leafIndex',
          'treeSize',
          'auditPath',
          'sealCheckpoint',
        ],
        properties: {
          status: { const: 'sealed' },
          entry: ref('AuditEntry'),
          storedHash: plain(Hex64),
          leaf: plain(Hex64),
          index: { type: 'integer', minimum: 0, description: "The leaf's index in the org tree" },
          size: { type: 'integer', minimum: 1, description: 'The tree size the inclusion proof is for' },
          inclusion: { type: 'array', items: { type: 'string', description: 'base64 SHA-256' } },
          checkpoint: {
            type: 'string',
            description: 'The signed checkpoint of that size (C2SP signed note)',
          },
          leafIndex: { type: 'integer', minimum: 0, deprecated: true },
          treeSize: { type: 'integer', minimum: 1, deprecated: true },
          auditPath: { type: 'array', items: plain(Hex64), deprecated: true },
          sealCheckpoint: { ...ref('Checkpoint'), deprecated: true },
        },
        additionalProperties: false,
      },
    ],
  },
  Histogram: {
    type: 'object',
    required: ['interval', 'intervalMs', 'total', 'buckets'],
    properties: {
      interval: { type: 'string', description: 'Bucket width: 1m, 5m, … 365d' },
      intervalMs: { type: 'integer', minimum: 1 },
      total: { type: 'integer', minimum: 0, description: 'Every matching entry' },
      buckets: {
        type: 'array',
        items: {
          type: 'object',
          required: ['start', 'count'],
          properties: {
            start: { type: 'string', format: 'date-time' },
            count: { type: 'integer', minimum: 0 },
          },
          additionalProperties: false,
        },
      },
    },
    additionalProperties: false,
  },
  Facets: {
    type: 'object',
    required: ['actions', 'resourceTypes'],
    properties: {
      actions: {
        type: 'array',
        items: {
          type: 'object',
          required: ['value', 'count', 'destructive'],
          properties: {
            value: { type: 'string' },
            count: { type: 'integer' },
            destructive: { type: 'boolean' },
          },
          additionalProperties: false,
        },
      },
      resourceTypes: {
        type: 'array',
        items: {
          type: 'object',
          required: ['value', 'count'],
          properties: { value: { type: 'string' }, count: { type: 'integer' } },
          additionalProperties: false,
        },
      },
    },
    additionalProperties: false,
  },
  Health: {
    type: 'object',
    required: ['status', 'opensearch'],
    properties: {
      status: { type: 'string', enum: ['ok', 'unavailable'] },
      opensearch: {
        type: 'object',
        required: ['status'],
        properties: {
          status: { type: 'string', description: 'green, yellow, red, serverless or unreachable' },
          version: { type: 'string' },
          cluster: { type: 'string' },
          nodes: { type: 'integer' },
        },
        additionalProperties: false,
      },
      requestId: { type: 'string' },
    },
    additionalProperties: false,
  },
  OrgBody: plain(D.OrgBody),
  WorkspaceBody: plain(D.WorkspaceBody),
  MemberBody: plain(D.MemberBody),
  MemberListBody: plain(D.MemberListBody),
  MemberSyncReport: {
    type: 'object',
    description:
      'How many listed members were added (or re-added), changed, left as they were; how many departed',
    required: ['added', 'updated', 'removed', 'unchanged'],
    properties: {
      added: { type: 'integer', minimum: 0 },
      updated: { type: 'integer', minimum: 0 },
      removed: { type: 'integer', minimum: 0 },
      unchanged: { type: 'integer', minimum: 0 },
    },
    additionalProperties: false,
  },
  PersonalKeyBody: plain(D.PersonalKeyBody),
  WorkspaceKeyBody: plain(D.WorkspaceKeyBody),
  IngestKeyBody: plain(D.IngestKeyBody),
  Org: plain(D.Org),
  Workspace: plain(D.Workspace),
  Member: plain(D.Member),
  ApiKeyRecord: plain(ApiKeyRecord),
  CreatedKey: {
    type: 'object',
    required: ['id', 'key'],
    properties: {
      id: { type: 'string' },
      key: { type: 'string', description: 'The secret: shown once, store it now' },
    },
    additionalProperties: false,
  },
  ...errorSchemas(),
};

/** Query parameters from an object schema: one parameter per property, with its schema and requiredness. */
function queryParams(schema: TSchema, only?: string[]): Json[] {
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

function pathParams(schema: TSchema): Json[] {
  const s = plain(schema) as { properties: Record<string, Json> };
  return Object.entries(s.properties).map(([name, p]) => ({ name, in: 'path', required: true, schema: p }));
}

const eventIdParam = {
  name: 'id',
  in: 'path',
  required: true,
  schema: { type: 'string', pattern: ID_PATTERN },
};

const json = (schema: Json) => ({ 'application/json': { schema } });

interface Op {
  summary: string;
  tag: 'events' | 'integrity' | 'operator' | 'service';
  operationId: string;
  parameters?: Json[];
  body?: Json;
  ok: Record<number, { description: string; schema?: Json; content?: Json }>;
  errors: number[];
}

const PUBLIC_ERRORS = [400, 401, 403, 429, 500, 503];
const OPERATOR_ERRORS = [400, 401, 404, 429, 500, 503];

function operation(op: Op): Json {
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

export function openApiDocument(): Json {
  const paths: Json = {
    '/api/v1/audit-logs': {
      post: operation({
        operationId: 'ingestEvents',
        summary: 'Write events (ingest key): one event object, {"events": [...]}, or NDJSON',
        tag: 'events',
        body: {
          'application/json': { schema: { oneOf: [ref('EventInput'), ref('IngestBatch')] } },
          'application/x-ndjson': { schema: { type: 'string', description: 'One event object per line' } },
        },
        ok: {
          201: { description: 'Every event was created', schema: ref('IngestResults') },
          207: { description: 'Some events were duplicates or rejected', schema: ref('IngestResults') },
        },
        errors: [...PUBLIC_ERRORS, 408, 413, 415],
      }),
      get: operation({
        operationId: 'listEvents',
        summary: 'List entries, newest first, filtered and cursor-paged',
        tag: 'events',
        parameters: queryParams(ListQuery),
        ok: { 200: { description: 'A page of entries', schema: ref('ListPage') } },
        errors: PUBLIC_ERRORS,
      }),
    },
    '/api/v1/audit-logs/stream': {
      get: operation({
        operationId: 'streamEvents',
        summary: 'The sealed entries in acceptance order, for SIEMs; never skips, includes departed members',
        tag: 'events',
        parameters: queryParams(StreamQuery),
        ok: { 200: { description: 'A page of the feed', schema: ref('StreamPage') } },
        errors: PUBLIC_ERRORS,
      }),
    },
    '/api/v1/audit-logs/{id}': {
      get: operation({
        operationId: 'getEvent',
        summary: 'One entry by id',
        tag: 'events',
        parameters: [eventIdParam],
        ok: { 200: { description: 'The entry', schema: ref('AuditEntry') } },
        errors: [...PUBLIC_ERRORS, 404],
      }),
    },
    '/api/v1/audit-logs/{id}/proof': {
      get: operation({
        operationId: 'getProof',
        summary: 'What proves one entry offline (audit path and signed checkpoint), or pending until sealed',
        tag: 'integrity',
        parameters: [eventIdParam, ...queryParams(ProofQuery)],
        ok: {
          200: {
            description:
              'The proof, or { status: "pending" }; with format=tlog-proof the c2sp.org/tlog-proof@v1 text',
            content: {
              'application/json': { schema: ref('Proof') },
              'text/plain; charset=utf-8': { schema: { type: 'string' } },
            },
          },
        },
        errors: [...PUBLIC_ERRORS, 404],
      }),
    },
    '/api/v1/audit-logs/histogram': {
      get: operation({
        operationId: 'histogram',
        summary: 'Matching entries per interval over the range (the list filters; at most 60 buckets)',
        tag: 'events',
        parameters: queryParams(HistogramQuery),
        ok: { 200: { description: 'Counts per interval', schema: ref('Histogram') } },
        errors: PUBLIC_ERRORS,
      }),
    },
    '/api/v1/audit-logs/facets': {
      get: operation({
        operationId: 'facets',
        summary: 'The actions and resource types of the scope, all time, with counts',
        tag: 'events',
        parameters: queryParams(FacetsQuery),
        ok: { 200: { description: 'Values with counts', schema: ref('Facets') } },
        errors: PUBLIC_ERRORS,
      }),
    },
    '/api/v1/audit-logs/export': {
      get: operation({
        operationId: 'exportEvents',
        summary: 'Every matching entry, newest first, streamed as a CSV or NDJSON download',
        tag: 'events',
        parameters: queryParams(ExportQuery),
        ok: {
          200: {
            description: 'The download (Content-Disposition: attachment)',
            content: {
              'text/csv': { schema: { type: 'string' } },
              'application/x-ndjson': { schema: { type: 'string', description: 'One AuditEntry per line' } },
            },
          },
        },
        errors: PUBLIC_ERRORS,
      }),
    },
    '/api/v1/audit-logs/integrity/public-key': {
      get: operation({
        operationId: 'getPublicKey',
        summary: 'The Ed25519 key that signs checkpoints',
        tag: 'integrity',
        ok: { 200: { description: 'The public key', schema: ref('PublicKey') } },
        errors: PUBLIC_ERRORS,
      }),
    },
    '/api/v1/audit-logs/integrity/checkpoints': {
      get: operation({
        operationId: 'listCheckpoints',
        summary: "The org's signed checkpoints by seq",
        tag: 'integrity',
        parameters: queryParams(CheckpointQuery),
        ok: { 200: { description: 'A page of checkpoints', schema: ref('CheckpointPage') } },
        errors: PUBLIC_ERRORS,
      }),
    },
    '/api/v1/audit-logs/integrity/checkpoint': {
      get: operation({
        operationId: 'getSignedCheckpoint',
        summary: "The org tree's newest checkpoint (or of ?size=N) as a C2SP signed note, with cosignatures",
        tag: 'integrity',
        parameters: queryParams(SignedCheckpointQuery),
        ok: {
          200: {
            description: 'origin, size, base64 root, a blank line, signature lines',
            content: { 'text/plain; charset=utf-8': { schema: { type: 'string' } } },
          },
        },
        errors: [...PUBLIC_ERRORS, 404],
      }),
    },
    '/api/v1/audit-logs/integrity/consistency': {
      get: operation({
        operationId: 'getConsistencyProof',
        summary: 'RFC 9162 consistency proof between two tree sizes of the org',
        tag: 'integrity',
        parameters: queryParams(ConsistencyQuery),
        ok: { 200: { description: 'The proof', schema: ref('ConsistencyProof') } },
        errors: PUBLIC_ERRORS,
      }),
    },
    '/api/v1/admin/orgs/{orgId}': {
      put: operation({
        operationId: 'putOrg',
        summary: 'Create or update an organization',
        tag: 'operator',
        parameters: pathParams(D.OrgParams),
        body: json(ref('OrgBody')),
        ok: {
          200: { description: 'Updated', schema: ref('Org') },
          201: { description: 'Created', schema: ref('Org') },
        },
        errors: [...OPERATOR_ERRORS, 409],
      }),
    },
    '/api/v1/admin/orgs/{orgId}/workspaces/{workspaceId}': {
      put: operation({
        operationId: 'putWorkspace',
        summary: 'Create or rename a workspace',
        tag: 'operator',
        parameters: pathParams(D.WorkspaceParams),
        body: json(ref('WorkspaceBody')),
        ok: {
          200: { description: 'Updated', schema: ref('Workspace') },
          201: { description: 'Created', schema: ref('Workspace') },
        },
        errors: [...OPERATOR_ERRORS, 409],
      }),
    },
    '/api/v1/admin/orgs/{orgId}/members': {
      put: operation({
        operationId: 'syncMembers',
        summary:
          "Sync the org's full member list: listed members are added or updated, current members not listed depart",
        tag: 'operator',
        parameters: pathParams(D.OrgParams),
        body: json(ref('MemberListBody')),
        ok: { 200: { description: 'What changed', schema: ref('MemberSyncReport') } },
        errors: [...OPERATOR_ERRORS, 409],
      }),
    },
    '/api/v1/admin/orgs/{orgId}/members/{userId}': {
      put: operation({
        operationId: 'putMember',
        summary: 'Add, update or re-admit a member',
        tag: 'operator',
        parameters: pathParams(D.MemberParams),
        body: json(ref('MemberBody')),
        ok: {
          200: { description: 'Updated', schema: ref('Member') },
          201: { description: 'Created', schema: ref('Member') },
        },
        errors: [...OPERATOR_ERRORS, 409],
      }),
      delete: operation({
        operationId: 'removeMember',
        summary: 'Record that a member left (their events stay, hidden from the list by default)',
        tag: 'operator',
        parameters: pathParams(D.MemberParams),
        ok: { 200: { description: 'The member, with leftAt', schema: ref('Member') } },
        errors: [...OPERATOR_ERRORS, 409],
      }),
    },
    '/api/v1/admin/orgs/{orgId}/api-keys': {
      post: operation({
        operationId: 'createReadKey',
        summary: 'Create a personal or workspace read key',
        tag: 'operator',
        parameters: pathParams(D.OrgParams),
        body: json({ oneOf: [ref('PersonalKeyBody'), ref('WorkspaceKeyBody')] }),
        ok: { 201: { description: 'The key (shown once)', schema: ref('CreatedKey') } },
        errors: [...OPERATOR_ERRORS, 409],
      }),
    },
    '/api/v1/admin/ingest-keys': {
      post: operation({
        operationId: 'createIngestKey',
        summary: 'Create an ingest key, bound to one org or (without orgId) for every org',
        tag: 'operator',
        body: json(ref('IngestKeyBody')),
        ok: { 201: { description: 'The key (shown once)', schema: ref('CreatedKey') } },
        errors: OPERATOR_ERRORS,
      }),
    },
    '/api/v1/admin/api-keys/{id}': {
      delete: operation({
        operationId: 'revokeKey',
        summary: 'Revoke an API key',
        tag: 'operator',
        parameters: pathParams(D.KeyParams),
        ok: { 200: { description: 'The revoked key (without its secret)', schema: ref('ApiKeyRecord') } },
        errors: OPERATOR_ERRORS,
      }),
    },
    '/healthz': {
      get: {
        ...operation({
          operationId: 'health',
          summary: 'Whether OpenSearch answers (no authentication)',
          tag: 'service',
          ok: {
            200: { description: 'OpenSearch answers', schema: ref('Health') },
            503: { description: 'OpenSearch does not answer (see Retry-After)', schema: ref('Health') },
          },
          errors: [],
        }),
        security: [],
      },
    },
    '/api/v1/openapi.json': {
      get: {
        ...operation({
          operationId: 'openApi',
          summary: 'This document (no authentication)',
          tag: 'service',
          ok: { 200: { description: 'OpenAPI 3.1', schema: { type: 'object' } } },
          errors: [],
        }),
        security: [],
      },
    },
    '/metrics': {
      get: operation({
        operationId: 'metrics',
        summary:
          'Prometheus metrics (request latency, ingest outcomes, sealer lag, seals, lifecycle, errors)',
        tag: 'operator',
        ok: {
          200: {
            description: 'Prometheus text format',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
        },
        errors: [401, 404, 500],
      }),
    },
  };
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'Audit-log service',
      version: '1',
      description:
        'Tamper-evident audit logs. Every error answers { error, code, param? } with a code from the catalogue; ' +
        '5xx answers add the requestId also sent in the X-Request-Id header.',
    },
    servers: [{ url: '/' }],
    tags: [
      { name: 'events', description: 'Write and read audit events' },
      { name: 'integrity', description: 'Seals, checkpoints and proofs' },
      { name: 'operator', description: 'Directory and keys; needs AUDIT_ADMIN_TOKEN' },
      { name: 'service', description: 'Health and this document' },
    ],
    components: {
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'An API key (alk_…)' },
        operatorToken: {
          type: 'http',
          scheme: 'bearer',
          description: 'The operator token, AUDIT_ADMIN_TOKEN',
        },
      },
      schemas,
    },
    paths,
  };
}
