/** The OpenAPI document's component schemas: the service's own TypeBox schemas, and the shapes of its answers. */
import { Type } from '@sinclair/typebox';
import * as D from '../directory/schemas.ts';
import { AuditEntry, EventInput } from '../events/schema.ts';
import { MAX_EVENTS } from '../ingest/ingest-routes.ts';
import { Checkpoint } from '../integrity/checkpoint.ts';
import { type Json, plain, ref, errorSchemas } from './openapi-parts.ts';

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

export const schemas: Json = {
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
