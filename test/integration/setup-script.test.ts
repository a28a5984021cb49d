import { expect } from 'chai';
import type { Change } from '../../src/store/bootstrap.ts';
import { TEMPLATE_NAME } from '../../src/store/names.ts';
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
