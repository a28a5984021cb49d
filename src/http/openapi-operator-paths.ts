import * as D from '../directory/schemas.ts';
import { type Json, ref, json, pathParams, OPERATOR_ERRORS, operation } from './openapi-parts.ts';

/** The operator API's paths (directory and keys), and the service's own: health, this document, metrics. */
export function operatorPaths(): Json {
  return {
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
}
