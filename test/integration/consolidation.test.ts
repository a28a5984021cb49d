/**
 * Month consolidation by the lifecycle sweep, on real indices: the sealed days of a past month move into one
 * month index behind aliases with the days' names, and nothing a reader, a SIEM or verify sees changes.
 * Days of 1927 are this file's own (other tests pick random days of 1930–1999; ingest takes days up to
 * 36,499 days old).
 */
import { expect } from 'chai';
import { Lease } from '../../src/integrity/lease.ts';
import { verifyOrg, type VerifyReport } from '../../src/integrity/verify.ts';
import { listDayIndices } from '../../src/lifecycle/index-listing.ts';
import { dayFilter, removeDayAliases } from '../../src/store/month-indices.ts';
import { readTargets } from '../../src/store/read-layout.ts';
import { sweepLifecycle, type SweepOptions } from '../../src/lifecycle/sweep.ts';
import { uniqueId } from '../helpers.ts';
import { sealAll, testKey } from '../fixtures/integrity.ts';
import {
  createOrg,
  get,
  ingest,
  readAll,
  startReadService,
  type ReadService,
  type TestOrg,
} from '../fixtures/read.ts';

const PATTERN = 'audit-logs-1927.*';
const NOW = new Date('1927-04-05T12:00:00Z');
const DAYS = ['1927-02-10', '1927-02-27', '1927-03-01', '1927-03-15', '1927-03-31', '1927-04-02'];
const index = (day: string) => `audit-logs-${day.replaceAll('-', '.')}`;

describe('lifecycle: month consolidation', function () {
  this.timeout(180_000);
  let svc: ReadService;
  let org: TestOrg;
  const rare = uniqueId('zebracopter').replaceAll('_', '');
  const rareId = uniqueId('evt_rare');
  let baseline: { ids: string[]; proof: unknown; verified: VerifyReport['events'] };

  /** The sweep at NOW over this file's days, seal age 2 days. */
  const sweep = (retentionDays: number, opts: SweepOptions = {}) =>
    sweepLifecycle(svc.store, { sealAfterDays: 2, retentionDays }, { now: NOW, pattern: PATTERN, ...opts });
  async function dropOwnIndices() {
    const names = await concrete();
    if (names.length > 0) await svc.store.indices.delete({ index: names.join(',') });
  }
  const concrete = async () => {
    const res = await svc.store.cat.indices({
      index: `${PATTERN},audit-month-1927.*`,
      format: 'json',
      h: 'index',
      expand_wildcards: 'all',
    } as never);
    return ((res.body ?? []) as unknown as { index: string }[]).map((r) => r.index).sort();
  };
  const allIds = async () =>
    (
      await readAll(svc.url, 'startDate=1927-01-01T00:00:00Z&endDate=1927-12-31T00:00:00Z', org.keys.owner, 7)
    ).map((e) => e.id as string);
  /** The day of each event a date-range read from `from` to `to` (whole days) returns. */
  const daysRead = async (from: string, to: string) =>
    (await readAll(svc.url, `startDate=${from}T00:00:00Z&endDate=${to}T23:59:59Z`, org.keys.owner, 50)).map(
      (e) => e.createdAt.slice(0, 10),
    );
  const search = async (q: string) =>
    (await get(svc.url, `/api/v1/audit-logs?search=${q}&includeDeparted=true`, org.keys.owner)).body.data.map(
      (e: { id: string }) => e.id,
    );
  const verify = (retentionDays = 36500) =>
    verifyOrg(svc.store, {
      orgId: org.orgId,
      publicKey: testKey,
      lateGraceMs: 0,
      retention: { days: retentionDays },
      now: NOW,
    });

  before(async () => {
    svc = await startReadService({ AUDIT_SEAL_INTERVAL_SECONDS: '60' });
    await dropOwnIndices();
    org = await createOrg(svc.ctx);
    const events = DAYS.flatMap((day, d) =>
      Array.from({ length: 5 }, (_, i) => ({
        action: 'workflow.updated',
        resourceType: 'workflow',
        resourceId: `wf_${d}_${i}`,
        description: `day ${day} event ${i}`,
        createdAt: `${day}T${String(10 + i).padStart(2, '0')}:00:00.000Z`,
      })),
    );
    events.push({
      action: 'workflow.updated',
      resourceType: 'workflow',
      resourceId: 'wf_rare',
      description: `the ${rare} moved`,
      createdAt: '1927-03-15T08:00:00.000Z',
      ...{ id: rareId },
    } as never);
    await ingest(svc.ctx, org.orgId, events);
    await sealAll(svc.ctx, org.orgId);
    const proof = await get(svc.url, `/api/v1/audit-logs/${rareId}/proof`, org.keys.owner);
    expect(proof.status).to.equal(200);
    const verified = await verify();
    expect(verified.problems).to.deep.equal([]);
    baseline = { ids: await allIds(), proof: proof.body, verified: verified.events };
    expect(baseline.ids.length).to.equal(DAYS.length * 5 + 1);
  });
  after(async () => {
    await dropOwnIndices();
    await svc.close();
  });

  it('seals the days, then replaces each past month by one month index', async () => {
    // A stopping service gives a consolidation up: the days stay as they are.
    const stopped = await sweep(36500, { signal: AbortSignal.abort() });
    expect(stopped.actions.filter((a) => a.action === 'consolidated')).to.deep.equal([]);
    expect(await concrete()).to.deep.equal(DAYS.map(index));
    const report = await sweep(36500);
    expect(report.actions.filter((a) => a.action === 'sealed')).to.deep.equal([]); // sealed above
    expect(report.actions.filter((a) => a.action !== 'sealed')).to.deep.equal([
      { index: 'audit-month-1927.02', action: 'consolidated', days: 2 },
      { index: 'audit-month-1927.03', action: 'consolidated', days: 3 },
    ]);
    // April is not over: its day stays a day index.
    expect(await concrete()).to.deep.equal([
      index('1927-04-02'),
      'audit-month-1927.02',
      'audit-month-1927.03',
    ]);
  });

  it('reads, searches, proves and verifies exactly as before', async () => {
    // Reads name the month indices themselves (not their day aliases).
    expect((await readTargets(svc.store, 'audit-logs-*')).split(',')).to.include.members([
      'audit-logs-*',
      '-audit-logs-1927.03.*',
      'audit-month-1927.03',
    ]);
    expect(await readTargets(svc.store, `${index('1927-03-31')},${index('1927-04-01')}`)).to.equal(
      `audit-month-1927.03,${index('1927-04-01')}`,
    );
    expect(await allIds()).to.deep.equal(baseline.ids);
    expect(await search(rare)).to.deep.equal([rareId]);
    const one = await get(svc.url, `/api/v1/audit-logs/${rareId}`, org.keys.owner);
    expect(one.status).to.equal(200);
    expect(one.body.createdAt).to.equal('1927-03-15T08:00:00.000Z');
    const proof = await get(svc.url, `/api/v1/audit-logs/${rareId}/proof`, org.keys.owner);
    expect(proof.body).to.deep.equal(baseline.proof);
    expect(await daysRead('1927-03-15', '1927-03-15')).to.deep.equal(Array(6).fill('1927-03-15'));
    const report = await verify();
    expect(report.problems).to.deep.equal([]);
    expect(report.clean).to.equal(true);
    expect(report.events).to.deep.equal(baseline.verified);
  });

  it('still lists the days one by one, each with its events', async () => {
    const rows = await listDayIndices(svc.store, { sealAfterDays: 2, retentionDays: 36500 }, NOW, PATTERN);
    expect(rows.map((r) => [r.index, r.docs, r.writeBlocked, r.storedIn, r.lifecycle.state])).to.deep.equal([
      [index('1927-02-10'), 5, true, 'audit-month-1927.02', 'sealed'],
      [index('1927-02-27'), 5, true, 'audit-month-1927.02', 'sealed'],
      [index('1927-03-01'), 5, true, 'audit-month-1927.03', 'sealed'],
      [index('1927-03-15'), 6, true, 'audit-month-1927.03', 'sealed'],
      [index('1927-03-31'), 5, true, 'audit-month-1927.03', 'sealed'],
      [index('1927-04-02'), 5, true, undefined, 'sealed'],
    ]);
  });

  it('refuses ingest into a consolidated day with 400 naming createdAt', async () => {
    const res = await fetch(`${svc.url}/api/v1/audit-logs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${org.keys.ingest}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        action: 'workflow.updated',
        resourceType: 'workflow',
        createdAt: '1927-03-20T10:00:00Z',
      }),
    });
    const body = (await res.json()) as { param?: string; error?: string };
    expect(res.status, JSON.stringify(body)).to.equal(400);
    expect(body.param).to.equal('createdAt');
    expect(body.error).to.match(/write-blocked/);
  });

  it('changes nothing when run again', async () => {
    const report = await sweep(36500);
    expect(report.actions).to.deep.equal([]);
    expect(await allIds()).to.deep.equal(baseline.ids);
  });

  it('reads neither a day retention took off its month nor less than a day index left beside it', async () => {
    // A day index written beside a consolidated month (during its build): still read. And retention takes a
    // day's alias off before it deletes the day's events: in between, no read may see them.
    const stray = index('1927-03-20');
    const feb10 = { name: index('1927-02-10'), from: Date.parse('1927-02-10'), to: Date.parse('1927-02-11') };
    try {
      await svc.store.create({
        index: stray,
        id: `${org.orgId}:stray`,
        refresh: true,
        body: {
          id: 'stray',
          orgId: org.orgId,
          action: 'workflow.updated',
          resourceType: 'workflow',
          description: rare,
          createdAt: '1927-03-20T10:00:00.000Z',
          acceptedAt: '1927-03-20T10:00:00.000Z',
        },
      });
      await removeDayAliases(svc.store, 'audit-month-1927.02', [feb10.name]);
      expect(await search(rare)).to.deep.equal(['stray', rareId]);
      expect(await daysRead('1927-03-20', '1927-03-20')).to.deep.equal(['1927-03-20']);
      const ids = await allIds();
      expect(ids.filter((id) => id !== 'stray')).to.deep.equal(baseline.ids.slice(0, -5));
      expect(await daysRead('1927-02-01', '1927-02-28')).to.deep.equal(Array(5).fill('1927-02-27'));
    } finally {
      await svc.store.indices.delete({ index: stray }, { ignore: [404] });
      // As before: the day's alias back, the month no longer expiring.
      await svc.store.indices.updateAliases({
        body: {
          actions: [
            { add: { index: 'audit-month-1927.02', alias: feb10.name, filter: dayFilter(feb10) } },
            { remove: { index: 'audit-month-1927.02', alias: 'audit-expiring-1927.02' } },
          ],
        },
      });
    }
    expect(await allIds()).to.deep.equal(baseline.ids);
  });

  it('deletes a day past retention from its month, then the month once all its days are past it', async () => {
    // 1927-02-10 is 54 days old, 1927-02-27 37: a retention of 40 days removes the first day only.
    const first = await sweep(40);
    expect(first.actions).to.deep.equal([{ index: index('1927-02-10'), action: 'deleted', ageDays: 54 }]);
    const left = await allIds();
    expect(left.length).to.equal(baseline.ids.length - 5);
    expect(await daysRead('1927-02-01', '1927-02-28')).to.deep.equal(Array(5).fill('1927-02-27'));
    const stored = await svc.store.count({ index: 'audit-month-1927.02' });
    expect((stored.body as { count: number }).count, 'the day is deleted, not only hidden').to.equal(5);

    const second = await sweep(36);
    expect(second.actions).to.deep.equal([{ index: index('1927-02-27'), action: 'deleted', ageDays: 37 }]);
    expect(await concrete()).to.deep.equal([index('1927-04-02'), 'audit-month-1927.03']);
    // Their seals still verify; the ten events are gone by retention, which is no finding, but is one before it.
    const report = await verify(36);
    expect(report.problems).to.deep.equal([]);
    expect(report.events.expired).to.equal(10);
    const early = await verify(60);
    expect(early.problems.map((p) => p.kind)).to.deep.equal(Array(10).fill('event-missing'));
  });

  it('rebuilds a month whose build was abandoned, with no event seen twice meanwhile', async () => {
    const day = '1927-05-03';
    await ingest(svc.ctx, org.orgId, [
      { action: 'workflow.updated', resourceType: 'workflow', createdAt: `${day}T10:00:00.000Z` },
      { action: 'workflow.updated', resourceType: 'workflow', createdAt: `${day}T11:00:00.000Z` },
    ]);
    await sealAll(svc.ctx, org.orgId);
    const rules = { sealAfterDays: 2, retentionDays: 36500 };
    const june = new Date('1927-06-10T00:00:00Z');
    // Seals the day; May is not over yet on the 20th, so it stays a day index.
    await sweepLifecycle(svc.store, rules, { now: new Date('1927-05-20T00:00:00Z'), pattern: PATTERN });
    // A crashed build: the hidden month index with part of the day copied, never swapped in.
    await svc.store.indices.create({
      index: 'audit-month-1927.05',
      body: { settings: { 'index.hidden': true } },
    });
    await svc.store.reindex({
      refresh: true,
      body: {
        source: { index: index(day), size: 1 },
        max_docs: 1,
        dest: { index: 'audit-month-1927.05', op_type: 'create' },
      },
    });
    const ids = await allIds();
    expect(new Set(ids).size).to.equal(ids.length);
    // While another instance holds the month phase's lease, the build may be its own: left alone.
    const other = new Lease(svc.store, 'lifecycle-months', 'another-instance', 60_000);
    expect(await other.acquire()).to.equal(true);
    const held = await sweepLifecycle(svc.store, rules, { now: june, pattern: 'audit-logs-1927.05*' });
    expect(held.actions).to.deep.equal([]);
    await other.release();
    const rebuilt = await sweepLifecycle(svc.store, rules, { now: june, pattern: 'audit-logs-1927.05*' });
    expect(rebuilt.actions).to.deep.equal([
      { index: 'audit-month-1927.05', action: 'consolidated', days: 1 },
    ]);
    expect(await allIds()).to.deep.equal(ids);
    expect((await verify(36)).problems).to.deep.equal([]);
  });
});
