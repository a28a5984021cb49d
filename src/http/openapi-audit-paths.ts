import {
  CheckpointQuery,
  ConsistencyQuery,
  ProofQuery,
  SignedCheckpointQuery,
} from '../integrity/integrity-routes.ts';
import { ExportQuery, FacetsQuery, HistogramQuery } from '../query/page-routes.ts';
import { ListQuery } from '../query/query-params.ts';
import { StreamQuery } from '../stream/stream-params.ts';
import { type Json, ref, queryParams, eventIdParam, PUBLIC_ERRORS, operation } from './openapi-parts.ts';

/** The public API's paths: writing and reading events, proofs, page aggregations, checkpoints. */
export function auditPaths(): Json {
  return {
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
  };
}
