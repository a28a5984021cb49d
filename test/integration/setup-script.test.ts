import { expect } from 'chai';
import type { Change } from '../../src/store/bootstrap.ts';
import { INTERNAL, TEMPLATE_NAME } from '../../src/store/names.ts';
import { createStore } from '../../src/store/client.ts';
import { opensearchUrl } from '../helpers.ts';
import { runScript } from '../scripts.ts';

describe('npm run setup', () => {
  it('reports every template, index and policy, and a second run changes nothing', async () => {
    await runScript('setup', []);
    const res = await runScript('setup', ['--json']);
    expect(res.code, res.stderr).to.equal(0);
    const changes = JSON.parse(res.stdout) as Change[];
    expect(changes.map((c) => c.name)).to.include.members([TEMPLATE_NAME, 'audit-internal-ledger']);
    expect(changes.filter((c) => c.action === 'created' || c.action === 'updated')).to.deep.equal([]);
    const table = await runScript('setup', []);
    expect(table.stdout).to.match(/index template\s+audit-logs\s+unchanged/);
    expect(table.stdout).to.contain('Nothing to change');
  });

  it('gives an internal index created before its definition changed the settings the service relies on', async () => {
    // The ledger is refreshed by the sealer only (refresh_interval -1); an older ledger had the default.
    const store = createStore(opensearchUrl());
    try {
      await store.indices.putSettings({
        index: INTERNAL.ledger,
        body: { index: { refresh_interval: null } } as never,
      });
      const res = await runScript('setup', ['--json']);
      expect(res.code, res.stderr).to.equal(0);
      const changes = JSON.parse(res.stdout) as Change[];
      expect(changes.filter((c) => c.action === 'updated').map((c) => c.name)).to.deep.equal([
        INTERNAL.ledger,
      ]);
      const settings = (await store.indices.getSettings({ index: INTERNAL.ledger })).body as Record<
        string,
        { settings: { index: { refresh_interval?: string } } }
      >;
      expect(settings[INTERNAL.ledger]!.settings.index.refresh_interval).to.equal('-1');
    } finally {
      await store.close();
    }
  });

  it('fails with exit 1 and names the cluster it could not reach', async () => {
    const res = await runScript('setup', [], { OPENSEARCH_URL: 'http://127.0.0.1:9' });
    expect(res.code).to.equal(1);
    expect(res.stderr).to.match(/cannot reach OpenSearch at http:\/\/127\.0\.0\.1:9/);
  });

  it('prints its usage with --help', async () => {
    const res = await runScript('setup', ['--help']);
    expect(res.code).to.equal(0);
    expect(res.stdout).to.match(/^Usage: npm run setup/);
  });
});
