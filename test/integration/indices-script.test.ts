import { expect } from 'chai';
import type { DayIndexInfo } from '../../src/lifecycle/index-listing.ts';
import { runScript } from '../scripts.ts';
import { testStore } from '../helpers.ts';

// Days in 1930: no other test writes there.
const HOT = 'audit-logs-1930.04.01';
const BLOCKED = 'audit-logs-1930.04.02';

describe('npm run indices', () => {
  const store = testStore();

  before(async () => {
    await store.indices.delete({ index: `${HOT},${BLOCKED}`, ignore_unavailable: true });
    for (const [index, n] of [
      [HOT, 3],
      [BLOCKED, 2],
    ] as const) {
      for (let i = 0; i < n; i++) {
        await store.create({
          index,
          id: `evt_${i}`,
          body: {
            id: `evt_${i}`,
            orgId: 'org_idx',
            action: 'workflow.created',
            resourceType: 'workflow',
            createdAt: `${index.slice(11).replace(/\./g, '-')}T10:00:00Z`,
          },
        });
      }
    }
    await store.indices.refresh({ index: `${HOT},${BLOCKED}` });
    await store.indices.putSettings({ index: BLOCKED, body: { 'index.blocks.write': true } });
  });
  after(async () => {
    await store.indices.delete({ index: `${HOT},${BLOCKED}`, ignore_unavailable: true });
    await store.close();
  });

  const list = async (env: Record<string, string> = {}) => {
    const res = await runScript('indices', ['--json', '--pattern', 'audit-logs-1930.*'], env);
    expect(res.code, res.stderr).to.equal(0);
    const all = JSON.parse(res.stdout) as DayIndexInfo[];
    return Object.fromEntries(
      all.filter((i) => i.index === HOT || i.index === BLOCKED).map((i) => [i.index, i]),
    );
  };

  it('lists each day with its docs, size and write block', async () => {
    const got = await list();
    expect(got[HOT]).to.include({ day: '1930-04-01', docs: 3, writeBlocked: false });
    expect(got[BLOCKED]).to.include({ day: '1930-04-02', docs: 2, writeBlocked: true });
    expect(got[HOT]!.sizeBytes).to.be.greaterThan(0);
  });

  it('derives the lifecycle state and next step from the seal-after and retention ages', async () => {
    // 1930 is ~35,000 days ago: past the default retention of 400 days.
    expect((await list())[HOT]!.lifecycle).to.include({ state: 'delete', nextStep: 'delete' });
    // Past the seal age: the write-blocked index is sealed and next deleted; the other is still hot, its write
    // block overdue (the sweep has not reached it).
    const sealed = await list({ AUDIT_SEAL_AFTER_DAYS: '10000', AUDIT_RETENTION_DAYS: '36500' });
    expect(sealed[BLOCKED]!.lifecycle).to.include({ state: 'sealed', nextStep: 'delete' });
    expect(sealed[BLOCKED]!.lifecycle.nextStepAt).to.equal(
      new Date(Date.UTC(1930, 3, 2) + 36500 * 86_400_000).toISOString(),
    );
    expect(sealed[HOT]!.lifecycle).to.include({ state: 'hot', nextStep: 'write block + force merge' });
    expect(Date.parse(sealed[HOT]!.lifecycle.nextStepAt!)).to.be.below(Date.now());
    const hot = await list({ AUDIT_SEAL_AFTER_DAYS: '36000', AUDIT_RETENTION_DAYS: '36500' });
    expect(hot[HOT]!.lifecycle).to.include({ state: 'hot', nextStep: 'write block + force merge' });
    expect(Date.parse(hot[HOT]!.lifecycle.nextStepAt!)).to.be.above(Date.now());
    // An index already write-blocked counts as sealed whatever its age.
    expect(hot[BLOCKED]!.lifecycle.state).to.equal('sealed');
  });

  it('prints a table with a totals row, and explains one index', async () => {
    const table = await runScript('indices', []);
    expect(table.code, table.stderr).to.equal(0);
    expect(table.stdout).to.match(/1930-04-01\s+3\s+\S+ \S+\s+delete\s+delete at the next sweep\s+no/);
    expect(table.stdout).to.match(/total \(\d+ indices\)/);
    const explained = await runScript('indices', ['--explain', BLOCKED]);
    expect(explained.code, explained.stderr).to.equal(0);
    expect(explained.stdout).to.contain('past retention');
  });

  it('fails clearly for an unknown index and for a bad setting', async () => {
    const res = await runScript('indices', ['--explain', 'audit-logs-1930.13.99']);
    expect(res.code).to.equal(1);
    expect(res.stderr).to.contain('no audit index named "audit-logs-1930.13.99"');
    const bad = await runScript('indices', [], { AUDIT_RETENTION_DAYS: 'soon' });
    expect(bad.code).to.equal(1);
    expect(bad.stderr).to.contain('AUDIT_RETENTION_DAYS');
  });
});
