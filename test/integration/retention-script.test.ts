import { expect } from 'chai';
import { runScript } from '../scripts.ts';
import { testStore } from '../helpers.ts';
import { INTERNAL } from '../../src/store/names.ts';
import { SETTING_IDS } from '../../src/store/settings.ts';

// Days nobody else uses. 1921 is ~38,000 days old: past any retention the script accepts (at most 36,500);
// 1928 is ~35,900 days old: kept by a retention of 36,500 days, deleted by one of 30,000.
const OLD = ['audit-logs-1921.02.01', 'audit-logs-1921.02.02'];
const KEPT = 'audit-logs-1928.06.01';
const PATTERN = 'audit-logs-1921.*,audit-logs-1928.*';

describe('npm run retention', function () {
  this.timeout(60_000);
  const store = testStore();
  const all = [...OLD, KEPT].join(',');

  before(async () => {
    // The month index first: while it exists, KEPT is its alias, which cannot be deleted as an index.
    await store.indices.delete({ index: 'audit-month-1928.06', ignore_unavailable: true });
    await store.indices.delete({ index: all, ignore_unavailable: true });
    for (const index of [...OLD, KEPT]) {
      const createdAt = `${index.slice(11).replace(/\./g, '-')}T12:00:00Z`;
      await store.create({
        index,
        id: 'evt_1',
        refresh: true,
        body: {
          id: 'evt_1',
          orgId: 'org_ret',
          action: 'workflow.created',
          resourceType: 'workflow',
          createdAt,
        },
      });
    }
  });
  after(async () => {
    // The retention this file stores would outlive it on the shared engine; others rely on AUDIT_RETENTION_DAYS.
    await store.delete(
      { index: INTERNAL.service, id: SETTING_IDS.retention, refresh: true },
      { ignore: [404] },
    );
    // The month index first: while it exists, KEPT is its alias, which cannot be deleted as an index.
    await store.indices.delete({ index: 'audit-month-1928.06', ignore_unavailable: true });
    await store.indices.delete({ index: all, ignore_unavailable: true });
    await store.close();
  });

  const exists = async (index: string) => (await store.indices.exists({ index })).body;

  it('shows first what it would delete, and a dry run changes nothing', async () => {
    const res = await runScript('retention', ['--days', '30000', '--pattern', PATTERN, '--dry-run']);
    expect(res.code, res.stderr).to.equal(0);
    expect(res.stdout).to.contain('Retention: 400 → 30000 days');
    expect(res.stdout).to.contain('DELETED now: 3 day index(es), 3 events');
    for (const i of [...OLD, KEPT]) expect(res.stdout).to.contain(i);
    expect(res.stdout).to.not.contain('Write-blocked on the way'); // 1928 is past retention 30000 too
    expect(res.stdout).to.contain('Dry run: nothing changed.');
    for (const i of [...OLD, KEPT]) expect(await exists(i), i).to.equal(true);
  });

  it('refuses to apply without --yes when nobody can be asked', async () => {
    const res = await runScript('retention', ['--days', '36500', '--pattern', PATTERN]);
    expect(res.code).to.equal(1);
    expect(res.stderr).to.contain('pass --yes to apply');
    for (const i of [...OLD, KEPT]) expect(await exists(i), i).to.equal(true);
  });

  it('applies it: deletes what is past the new retention, keeps (and seals) the rest, stores it', async () => {
    const res = await runScript('retention', ['--days', '36500', '--pattern', PATTERN, '--yes', '--json']);
    expect(res.code, res.stderr).to.equal(0);
    const out = JSON.parse(res.stdout);
    expect(out.plan.deleteNow.map((i: { index: string }) => i.index)).to.deep.equal(OLD);
    expect(out.plan.sealNow.map((i: { index: string }) => i.index)).to.deep.equal([KEPT]);
    const deleted = out.result.sweep.actions.filter((a: { action: string }) => a.action === 'deleted');
    expect(deleted.map((a: { index: string }) => a.index)).to.deep.equal(OLD);
    for (const i of OLD) expect(await exists(i), i).to.equal(false);
    // Sealed, and its month (June 1928 is over and sealed) consolidated: the day is now an alias of the month.
    expect(await exists(KEPT)).to.equal(true);
    const consolidated = out.result.sweep.actions.filter(
      (a: { action: string }) => a.action === 'consolidated',
    );
    expect(consolidated).to.deep.equal([{ index: 'audit-month-1928.06', action: 'consolidated', days: 1 }]);
    const settings = Object.values(
      (await store.indices.getSettings({ index: KEPT, flat_settings: true })).body,
    )[0]!.settings!;
    expect((settings as Record<string, string>)['index.blocks.write']).to.equal('true');
    const found = await store.search({ index: KEPT, body: { query: { term: { id: 'evt_1' } } } });
    expect((found.body as { hits: { hits: unknown[] } }).hits.hits).to.have.length(1);

    const text = await runScript('retention', ['--days', '36500', '--pattern', PATTERN, '--yes']);
    expect(text.code, text.stderr).to.equal(0);
    expect(text.stdout).to.contain('The retention of 36500 days is stored in the cluster');
  });

  it('refuses a retention not above the seal age, a bad pattern, and a missing --days', async () => {
    const low = await runScript('retention', ['--days', '2', '--dry-run']);
    expect(low.code).to.equal(1);
    expect(low.stderr).to.contain('must be larger than AUDIT_SEAL_AFTER_DAYS (2)');
    const pattern = await runScript('retention', [
      '--days',
      '500',
      '--pattern',
      'audit-internal-*',
      '--dry-run',
    ]);
    expect(pattern.code).to.equal(1);
    expect(pattern.stderr).to.contain('--pattern must name audit day indices');
    const missing = await runScript('retention', []);
    expect(missing.code).to.equal(1);
    expect(missing.stderr).to.contain('--days is required');
  });
});
