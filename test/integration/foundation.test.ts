import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { applyTemplates, desiredTemplate, hasIsm, TEMPLATES_DIR } from '../../src/store/bootstrap.ts';
import { createMonthIndex } from '../../src/store/month-indices.ts';
import { dayIndex, ISM_POLICY_ID, TEMPLATE_NAME } from '../../src/store/names.ts';
import { startService } from '../../src/server.ts';
import { freePort } from '../../scripts/lib/engine/engine.ts';
import { startTestService, testConfig, testStore } from '../helpers.ts';

describe('foundation: the real engine, templates and health', () => {
  const store = testStore();
  after(() => store.close());

  it('talks to a real OpenSearch 3.x node', async () => {
    const info = (await store.info()).body;
    expect(info.version.distribution).to.equal('opensearch');
    expect(Number(info.version.number.split('.')[0])).to.be.at.least(3);
  });

  it('runs the index-management (ISM) plugin when the cluster has it', async function () {
    if (!(await hasIsm(store))) {
      // Maven Central publishes no index-management zip (see docs/operations.md, "Lifecycle"); the sweep stands in.
      this.skip();
    }
    const res = await store.transport.request({
      method: 'GET',
      path: `/_plugins/_ism/policies/${ISM_POLICY_ID}`,
    });
    expect(res.statusCode).to.equal(200);
  });

  it('installs the index template from index-templates/, and a second run changes nothing', async () => {
    const cfg = testConfig();
    await applyTemplates(store, cfg);
    const again = await applyTemplates(store, cfg);
    expect(again.filter((c) => c.action === 'created' || c.action === 'updated')).to.deep.equal([]);
    const res = await store.indices.getIndexTemplate({ name: TEMPLATE_NAME });
    const installed: any = res.body.index_templates[0]!.index_template; // eslint-disable-line @typescript-eslint/no-explicit-any
    const file = JSON.parse(fs.readFileSync(path.join(TEMPLATES_DIR, 'audit-logs.template.json'), 'utf8'));
    expect(installed.index_patterns).to.deep.equal(['audit-logs-*']);
    expect(installed.template.mappings).to.deep.equal(file.template.mappings);
  });

  it('creates a day index with the template mapping when the first event of that day is written', async () => {
    await applyTemplates(store, testConfig());
    // A day far in the past, so no other test writes there.
    const createdAt = '2001-02-03T04:05:06.789Z';
    const index = dayIndex(createdAt);
    await store.indices.delete({ index, ignore_unavailable: true });
    await store.create({
      index,
      id: 'evt_foundation',
      refresh: 'wait_for',
      body: {
        id: 'evt_foundation',
        orgId: 'org_f',
        action: 'workflow.created',
        resourceType: 'workflow',
        createdAt,
      },
    });
    const mapping: any = (await store.indices.getMapping({ index })).body[index]!.mappings; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(mapping.dynamic).to.equal('strict');
    expect(mapping.properties.description.type).to.equal('text');
    expect(mapping.properties.metadata.type).to.equal('flat_object');
    expect(mapping.properties.createdAt.type).to.equal('date');
    const settings: any = (await store.indices.getSettings({ index })).body[index]!.settings!.index; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(settings.append_only.enabled).to.equal('true');
    // Write-once: the same id cannot be written again.
    const again = await store
      .create({
        index,
        id: 'evt_foundation',
        body: { id: 'x', orgId: 'o', action: 'a.b', resourceType: 'r', createdAt },
      })
      .then(
        () => 201,
        (err) => err.meta.statusCode,
      );
    expect(again).to.equal(409);
    if (await hasIsm(store)) {
      const explain = await store.transport.request({
        method: 'GET',
        path: `/_plugins/_ism/explain/${index}`,
      });
      expect(explain.body[index]['index.plugins.index_state_management.policy_id']).to.equal(ISM_POLICY_ID);
    }
    await store.indices.delete({ index });
  });

  it('adds a field the template gained to the day and month indices made before it, also sealed ones', async () => {
    // The indices are made while the template lacks `salt`, as before it had it.
    const old = desiredTemplate(testConfig());
    const { salt, ...before } = old.template.mappings.properties;
    old.template.mappings.properties = before;
    await store.indices.putIndexTemplate({ name: TEMPLATE_NAME, body: old as never });
    // Days and a month far in the past that no other test uses: open, sealed (write block), hidden month.
    const [open, sealed, month] = ['audit-logs-2002.03.04', 'audit-logs-2002.03.05', 'audit-month-2002.04'];
    await store.indices.delete({
      index: [open, sealed, month],
      ignore_unavailable: true,
      expand_wildcards: 'all',
    });
    for (const index of [open, sealed]) await store.indices.create({ index });
    await createMonthIndex(store, month);
    await store.indices.addBlock({ index: sealed, block: 'write' });
    const doc = (id: string) => ({
      id,
      orgId: 'org_f',
      action: 'a.b',
      resourceType: 'r',
      salt: 'x'.repeat(22),
    });
    const write = (index: string, id: string) =>
      store.create({ index, id, body: doc(id), refresh: true }).then(
        () => 'created',
        (err) => err.meta.body.error.type,
      );
    try {
      expect(await write(open, 'evt_before')).to.equal('strict_dynamic_mapping_exception');

      // A flood-stage disk makes indices read-only: the start goes on, and says what it could not add.
      await store.indices.putSettings({
        index: month,
        body: { 'index.blocks.read_only_allow_delete': true },
      });
      const blocked = (await applyTemplates(store, testConfig())).find((c) => c.kind === 'audit indices');
      expect(blocked).to.include({ action: 'skipped' });
      expect(blocked!.detail).to.contain('salt');
      await store.indices.putSettings({
        index: month,
        body: { 'index.blocks.read_only_allow_delete': null },
      });

      const changes = await applyTemplates(store, testConfig());
      expect(changes.find((c) => c.kind === 'audit indices')).to.include({
        action: 'updated',
        detail: 'added salt',
      });
      const mappings = (
        await store.indices.getMapping({ index: [open, sealed, month], expand_wildcards: 'all' })
      ).body as Record<string, { mappings: { properties: Record<string, unknown> } }>;
      for (const index of [open, sealed, month])
        expect(mappings[index]!.mappings.properties.salt).to.deep.equal(salt);
      expect(await write(open, 'evt_after')).to.equal('created');
      expect(await write(month, 'evt_copied')).to.equal('created');
      const again = await applyTemplates(store, testConfig());
      expect(again.find((c) => c.kind === 'audit indices')).to.include({ action: 'unchanged' });
    } finally {
      await applyTemplates(store, testConfig());
      await store.indices.putSettings({ index: sealed, body: { 'index.blocks.write': null } });
      await store.indices.delete({ index: [open, sealed, month], expand_wildcards: 'all' });
    }
  });

  it('answers /healthz with 200 and the engine version', async () => {
    const service = await startTestService();
    try {
      const res = await fetch(`${service.url}/healthz`);
      expect(res.status).to.equal(200);
      const body = await res.json();
      expect(body.status).to.equal('ok');
      expect(body.opensearch.version).to.match(/^3\./);
      expect(['green', 'yellow']).to.include(body.opensearch.status);
    } finally {
      await service.close();
    }
  });

  it('answers /healthz with 503 when OpenSearch does not answer', async () => {
    const service = await startTestService();
    // Point a second app at a port where no engine listens: the state of a stopped engine.
    const deadPort = await freePort(0);
    const { buildApp } = await import('../../src/app.ts');
    const { createStore } = await import('../../src/store/client.ts');
    const deadStore = createStore(`http://127.0.0.1:${deadPort}`);
    const app = buildApp({ cfg: testConfig(), store: deadStore });
    const server = app.listen(0);
    try {
      const port = (server.address() as { port: number }).port;
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(res.status).to.equal(503);
      expect((await res.json()).status).to.equal('unavailable');
    } finally {
      server.close();
      await deadStore.close();
      await service.close();
    }
  });

  it('refuses to start against an unreachable cluster with a clear error', async () => {
    const deadPort = await freePort(0);
    const err = await startService({ ...testConfig(), opensearchUrl: `http://127.0.0.1:${deadPort}` }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err).to.be.instanceOf(Error);
  });
});
