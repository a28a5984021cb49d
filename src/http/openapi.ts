/**
 * The OpenAPI 3.1 document of the public API and the operator API, served at GET /api/v1/openapi.json. It is
 * built from the schemas the service validates with (events, list/stream/checkpoint query, directory bodies) and
 * from the error catalogue itself, so it cannot drift from what the service checks and answers.
 */
import { auditPaths } from './openapi-audit-paths.ts';
import { operatorPaths } from './openapi-operator-paths.ts';
import type { Json } from './openapi-parts.ts';
import { schemas } from './openapi-schemas.ts';
import { streamPaths, streamSchemas } from './openapi-streams.ts';

export function openApiDocument(): Json {
  const paths: Json = { ...auditPaths(), ...streamPaths(), ...operatorPaths() };
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
      { name: 'streams', description: 'Push streams to SIEMs and storage (docs/streams.md)' },
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
      schemas: { ...schemas, ...streamSchemas },
    },
    paths,
  };
}
