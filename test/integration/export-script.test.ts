import { expect } from 'chai';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/config.ts';
import { PUBLIC_FIELDS } from '../../src/events/schema.ts';
import { seed } from '../../scripts/lib/seed/run.ts';
import { runScript } from '../scripts.ts';
import { opensearchUrl, testConfig, testStore, uniqueId } from '../helpers.ts';

const EVENTS = 1500;

describe('npm run export', function () {
  this.timeout(120_000);
  const store = testStore();
  const orgId = uniqueId('org_export');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'export-test-'));
  let total = 0;

  before(async () => {
    // Synthetic events through the real ingest path (today only), plus the directory's own events.
    await seed(
      { cfg: testConfig(), store },
      { orgId, events: EVENTS, days: 1, seed: 'export', workspaces: 2, members: 4 },
    );
    await store.indices.refresh({ index: 'audit-logs-*' });
    total = (await store.count({ index: 'audit-logs-*', body: { query: { term: { orgId } } } })).body.count;
    expect(total).to.be.greaterThan(EVENTS);
  });
  after(async () => {
    fs.rmSync(dir, { recursive: true, force: true });
    await store.close();
  });

  const lines = (file: string) => fs.readFileSync(file, 'utf8').split(/\r?\n/).filter(Boolean);

  it('writes every entry of the org as NDJSON, newest first, with exactly the public fields', async () => {
    const out = path.join(dir, 'all.ndjson');
    const res = await runScript('export', ['--org', orgId, '--out', out]);
    expect(res.code, res.stderr).to.equal(0);
    expect(res.stdout).to.contain(`Exported ${total.toLocaleString('en-US')} records`);
    expect(res.stderr).to.match(/export \[#+\] 100\.0%/); // the progress bar, with the counted total
    const entries = lines(out).map((l) => JSON.parse(l));
    expect(entries).to.have.length(total);
    expect(new Set(entries.map((e) => e.id)).size).to.equal(total);
    for (const e of entries) expect(Object.keys(e)).to.deep.equal([...PUBLIC_FIELDS]);
    const times = entries.map((e) => Date.parse(e.createdAt));
    expect(times).to.deep.equal([...times].sort((a, b) => b - a));
    expect(fs.existsSync(`${out}.export-state.json`)).to.equal(false);
  });

  it('writes CSV with the filters applied', async () => {
    const out = path.join(dir, 'workflows.csv');
    const res = await runScript('export', [
      '--org',
      orgId,
      '--out',
      out,
      '--format',
      'csv',
      '--resource-type',
      'workflow',
    ]);
    expect(res.code, res.stderr).to.equal(0);
    const rows = lines(out);
    expect(rows[0]).to.equal(PUBLIC_FIELDS.join(','));
    const expected = (
      await store.count({
        index: 'audit-logs-*',
        body: { query: { bool: { filter: [{ term: { orgId } }, { term: { resourceType: 'workflow' } }] } } },
      })
    ).body.count;
    expect(rows.length - 1).to.equal(expected);
    for (const r of rows.slice(1)) expect(r.split(',')[2]).to.equal('workflow');
  });

  it('writes CSV to a .csv file without --format, and refuses a --format the extension contradicts', async () => {
    const out = path.join(dir, 'inferred.csv');
    const res = await runScript('export', ['--org', orgId, '--out', out, '--resource-type', 'workflow']);
    expect(res.code, res.stderr).to.equal(0);
    expect(lines(out)[0]).to.equal(PUBLIC_FIELDS.join(','));
    expect(lines(out).slice(1)).to.deep.equal(lines(path.join(dir, 'workflows.csv')).slice(1));
    const mismatch = path.join(dir, 'mismatch.csv');
    const refused = await runScript('export', ['--org', orgId, '--out', mismatch, '--format', 'ndjson']);
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.contain(`--out ${mismatch} names a csv file but --format is ndjson`);
    expect(fs.existsSync(mismatch)).to.equal(false);
  });

  it('resumes a killed export: the finished file holds every record exactly once', async () => {
    const out = path.join(dir, 'resumed.ndjson');
    const state = `${out}.export-state.json`;
    // Kill the export (SIGKILL: no clean-up) once it has checkpointed some pages (one record per page: slow).
    const child = spawn(
      // node itself with the tsx loader (not the tsx wrapper, which would leave its node child running)
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(PROJECT_ROOT, 'scripts', 'export.ts'),
        '--org',
        orgId,
        '--out',
        out,
        '--page-size',
        '1',
      ],
      {
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', OPENSEARCH_URL: opensearchUrl() },
      },
    );
    const exited = new Promise((r) => child.on('exit', r));
    for (;;) {
      const s = fs.existsSync(state) ? JSON.parse(fs.readFileSync(state, 'utf8')) : undefined;
      if (s?.count >= 50) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    child.kill('SIGKILL');
    await exited;
    const checkpoint = JSON.parse(fs.readFileSync(state, 'utf8'));
    expect(checkpoint.count).to.be.below(total);
    // A torn write after the checkpoint, as a crash can leave it.
    fs.appendFileSync(out, '{"id":"half-writ');

    const again = await runScript('export', ['--org', orgId, '--out', out]);
    expect(again.code).to.equal(1);
    expect(again.stderr).to.contain('pass --resume');

    const res = await runScript('export', ['--org', orgId, '--out', out, '--resume']);
    expect(res.code, res.stderr).to.equal(0);
    expect(res.stderr).to.contain(`Resuming after ${checkpoint.count.toLocaleString('en-US')} records`);
    const ids = lines(out).map((l) => JSON.parse(l).id);
    expect(ids).to.have.length(total);
    expect(new Set(ids).size).to.equal(total);
    expect(ids).to.deep.equal(lines(path.join(dir, 'all.ndjson')).map((l) => JSON.parse(l).id));
    expect(fs.existsSync(state)).to.equal(false);
  });

  it('fails with a clear message and exit 1 for bad input and an unreachable cluster', async () => {
    const bad = await runScript('export', [
      '--org',
      orgId,
      '--out',
      path.join(dir, 'x'),
      '--since',
      'yesterday',
    ]);
    expect(bad.code).to.equal(1);
    expect(bad.stderr).to.contain('--since must be an ISO 8601 date');
    const format = await runScript('export', [
      '--org',
      orgId,
      '--out',
      path.join(dir, 'x'),
      '--format',
      'xml',
    ]);
    expect(format.stderr).to.contain('--format must be ndjson or csv');
    const org = await runScript('export', ['--org', uniqueId('org_none'), '--out', path.join(dir, 'x')]);
    expect(org.code).to.equal(1);
    expect(org.stderr).to.match(/organization "org_none_\w+" does not exist/);
    const down = await runScript('export', ['--org', orgId, '--out', path.join(dir, 'x')], {
      OPENSEARCH_URL: 'http://127.0.0.1:9',
    });
    expect(down.code).to.equal(1);
    expect(down.stderr).to.contain('cannot reach OpenSearch');
  });
});
