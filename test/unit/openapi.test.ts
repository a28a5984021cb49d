import { Validator } from '@seriousme/openapi-schema-validator';
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { catalogueCodes } from '../../src/http/openapi-parts.ts';
import { openApiDocument } from '../../src/http/openapi.ts';
import { registeredRoutes } from '../../src/http/route-table.ts';
import { createStore } from '../../src/store/client.ts';
import { PAGE_PATH } from '../../src/ui/ui-routes.ts';
import { checkResponse } from '../openapi-check.ts';

describe('OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const validator = new Validator();
    const res = await validator.validate(openApiDocument());
    expect(res.errors ?? [], JSON.stringify(res.errors)).to.deep.equal([]);
    expect(res.valid).to.equal(true);
    expect(validator.version).to.equal('3.1');
  });

  it('documents every error code of the catalogue with its status', () => {
    const doc = openApiDocument() as { components: { schemas: Record<string, { properties?: Json }> } };
    type Json = Record<string, { enum?: string[] }>;
    for (const [status, codes] of catalogueCodes()) {
      const schema = doc.components.schemas[`Error${status}`];
      expect(schema?.properties?.code?.enum, `status ${status}`).to.have.members(codes);
    }
    const all = [...catalogueCodes().values()].flat();
    for (const code of ['invalid_parameter', 'rate_limited', 'storage_unavailable', 'operator_api_disabled'])
      expect(all).to.include(code);
  });

  it('takes the query parameters from the schema the list endpoint validates with', () => {
    const doc = openApiDocument() as {
      paths: Record<string, { get: { parameters: { name: string; schema: { maximum?: number } }[] } }>;
    };
    const params = doc.paths['/api/v1/audit-logs']!.get.parameters;
    expect(params.map((p) => p.name)).to.include.members(['action', 'includeDeparted', 'limit', 'cursor']);
    expect(params.find((p) => p.name === 'limit')!.schema.maximum).to.equal(100);
  });

  it('documents exactly the routes the app registers, and no route it does not have', async function () {
    this.timeout(30_000); // building the app bundles the admin page
    const cfg = loadConfig({
      OPENSEARCH_URL: 'http://127.0.0.1:9',
      AUDIT_STATE_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'audit-state-')),
      AUDIT_ADMIN_TOKEN: 'openapi-test-token',
    });
    const store = createStore(cfg.opensearch.nodes[0]!);
    try {
      // The admin page's HTML and assets are not part of the API.
      const isPage = (p: string) => p === '/' || p.startsWith(PAGE_PATH);
      const registered = registeredRoutes(buildApp({ cfg, store }))
        .filter((r) => !isPage(r.path))
        .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')}`);
      const doc = openApiDocument() as { paths: Record<string, Record<string, unknown>> };
      const documented = Object.entries(doc.paths).flatMap(([p, ops]) =>
        Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`),
      );
      expect([...new Set(registered)].sort()).to.deep.equal(documented.sort());
    } finally {
      await store.close();
    }
  });

  it('refuses a body that does not match (the check can fail)', () => {
    expect(() => checkResponse('GET', '/api/v1/audit-logs', 200, { data: [{ id: 'x' }] })).to.throw(
      /does not match/,
    );
    expect(() => checkResponse('GET', '/api/v1/audit-logs', 418, {})).to.throw(
      /does not document status 418/,
    );
    expect(() =>
      checkResponse('GET', '/api/v1/audit-logs', 400, { error: 'e', code: 'no_such_code' }),
    ).to.throw(/does not match/);
    checkResponse('GET', '/api/v1/audit-logs', 400, { error: 'e', code: 'unknown_parameter', param: 'x' });
  });
});
