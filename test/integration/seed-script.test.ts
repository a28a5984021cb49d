import { expect } from 'chai';
import { INTERNAL } from '../../src/store/names.ts';
import { runScript } from '../scripts.ts';
import { testStore, uniqueId } from '../helpers.ts';

describe('npm run seed', function () {
  this.timeout(120_000);
  const store = testStore();
  const orgId = uniqueId('org_seed');
  const env = { AUDIT_SEAL_AFTER_DAYS: '4' };
  // One fixed window end for both runs, so they generate the same events.
  const until = new Date(Date.now() - 60_000).toISOString();
  after(() => store.close());

  /** The org's events in the day indices, except the directory's own (ids `dir_…`). */
  async function seededEvents(): Promise<
    { id: string; createdAt: string; actorId?: string; workspaceId?: string }[]
  > {
    await store.indices.refresh({ index: 'audit-logs-*' });
    const res = await store.search({
      index: 'audit-logs-*',
      body: {
        size: 1000,
        query: { bool: { filter: [{ term: { orgId } }], must_not: [{ prefix: { id: 'dir_' } }] } },
        sort: [{ createdAt: 'asc' }],
      },
    } as never);
    return (res.body.hits.hits as { _source: never }[]).map((h) => h._source);
  }

  it('creates the org, workspaces and members (some departed) and ingests the events', async () => {
    const res = await runScript(
      'seed',
      [
        '--org',
        orgId,
        '--events',
        '300',
        '--days',
        '3',
        '--seed',
        'abc',
        '--workspaces',
        '3',
        '--members',
        '12',
        '--until',
        until,
        '--json',
      ],
      env,
    );
    expect(res.code, res.stderr).to.equal(0);
    const summary = JSON.parse(res.stdout);
    expect(summary).to.include({ orgId, created: 300, duplicate: 0, rejected: 0, members: 12 });
    expect(summary.eventsPerSecond).to.be.greaterThan(0);

    const events = await seededEvents();
    expect(events).to.have.length(300);
    const oldest = Date.parse(events[0]!.createdAt);
    const today = new Date();
    expect(oldest).to.be.at.least(
      Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() - 2),
    );
    expect(new Set(events.map((e) => e.workspaceId).filter(Boolean)).size).to.be.at.most(3);

    const org = await store.get({ index: INTERNAL.orgs, id: orgId });
    expect((org.body._source as { plan: string }).plan).to.equal('enterprise');
    const membership = (await store.get({ index: INTERNAL.membership, id: orgId })).body._source as {
      current: string[];
      departed: string[];
    };
    expect(membership.current.length + membership.departed.length).to.equal(12);
    // Every actor of a seeded event is a member of the org (current or departed).
    const members = new Set([...membership.current, ...membership.departed]);
    for (const e of events) if (e.actorId) expect(members).to.include(e.actorId);
  });

  it('is reproducible: the same seed again writes nothing new (every event is a duplicate)', async () => {
    const res = await runScript(
      'seed',
      [
        '--org',
        orgId,
        '--events',
        '300',
        '--days',
        '3',
        '--seed',
        'abc',
        '--workspaces',
        '3',
        '--members',
        '12',
        '--until',
        until,
        '--json',
      ],
      env,
    );
    expect(res.code, res.stderr).to.equal(0);
    expect(JSON.parse(res.stdout)).to.include({ created: 0, duplicate: 300, rejected: 0 });
    expect(await seededEvents()).to.have.length(300);
  });

  it('refuses days that ingest would refuse as sealed, saying which setting to raise', async () => {
    const res = await runScript(
      'seed',
      ['--org', uniqueId('org_seed'), '--events', '10', '--days', '9'],
      env,
    );
    expect(res.code).to.equal(1);
    // Today and the 8 days before reach back 8 days: the setting must be 9. In the first hour of a UTC day the
    // window is yesterday and the 8 before (today has no hour yet), so 10.
    const setting = new Date().getUTCHours() === 0 ? 10 : 9;
    expect(res.stderr).to.contain(`AUDIT_SEAL_AFTER_DAYS=${setting} `);
    // Refused before any work is announced (or done).
    expect(res.stderr).not.to.contain('Creating org');
  });

  it('names a missing or bad flag', async () => {
    const missing = await runScript('seed', ['--events', '10', '--days', '1']);
    expect(missing.code).to.equal(1);
    expect(missing.stderr).to.contain('--org is required');
    const bad = await runScript('seed', ['--org', 'o', '--events', 'many', '--days', '1']);
    expect(bad.code).to.equal(1);
    expect(bad.stderr).to.contain('--events must be an integer');
    const help = await runScript('seed', ['--help']);
    expect(help.stdout).to.contain('AUDIT_SEAL_AFTER_DAYS=30 npm run seed');
  });
});
