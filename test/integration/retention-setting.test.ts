/**
 * One retention for the whole cluster: `npm run retention` stores it, and every script and every instance's
 * lifecycle sweep reads it, so a deletion by retention is never a verify finding.
 */
import { DAY_MS } from '../../src/days.ts';
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startLifecycleSweep } from '../../src/lifecycle/sweep.ts';
import { memoryLogger } from '../../src/observe/log.ts';
import { dayIndex, INTERNAL } from '../../src/store/names.ts';
import { SETTING_IDS } from '../../src/store/settings.ts';
import { testConfig, TEST_SIGNING_KEY_PEM, uniqueId } from '../helpers.ts';
import { runScript } from '../scripts.ts';
import { ingestSample, integrityCtx, sealAll } from '../fixtures/integrity.ts';

const today = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
const daysAgo = (n: number) => new Date(today - n * DAY_MS).toISOString().slice(0, 10);

describe('retention: one setting stored in the cluster', function () {
  this.timeout(180_000);
  const ctx = integrityCtx();
  const store = ctx.store;
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'retention-setting-'));
  const saved = new Map<string, unknown>();
  // The shared engine's settings are put back afterwards: other test files rely on AUDIT_RETENTION_DAYS.
  const settingDocs = Object.values(SETTING_IDS);

  before(async () => {
    for (const id of settingDocs) {
      const doc = await store.get({ index: INTERNAL.service, id }, { ignore: [404] });
      saved.set(id, (doc.body as { _source?: unknown })._source);
      await store.delete({ index: INTERNAL.service, id, refresh: true }, { ignore: [404] });
    }
  });
  after(async () => {
    for (const id of settingDocs) {
      const body = saved.get(id);
      if (body) await store.index({ index: INTERNAL.service, id, body: body as never, refresh: true });
      else await store.delete({ index: INTERNAL.service, id, refresh: true }, { ignore: [404] });
    }
    await store.close();
  });

  // Scripts run with no AUDIT_RETENTION_DAYS: only what the cluster stores can tell them the retention.
  const verify = (orgId: string) =>
    runScript('verify', ['--org', orgId], {
      AUDIT_SIGNING_KEY: TEST_SIGNING_KEY_PEM,
      AUDIT_STATE_DIR: stateDir,
    });

  it('after retention --days 6, verify (no AUDIT_RETENTION_DAYS) finds nothing missing and indices shows 6', async () => {
    const [kept, old1, old2] = [daysAgo(3), daysAgo(10), daysAgo(20)];
    const pattern = [kept, old1, old2].map((d) => dayIndex(`${d}T00:00:00Z`)).join(',');
    const { orgId } = await ingestSample(ctx, 5, old1);
    await ingestSample(ctx, 5, old2, orgId);
    await ingestSample(ctx, 5, kept, orgId);
    await sealAll(ctx, orgId);
    const clean = await verify(orgId);
    expect(clean.code, clean.stdout + clean.stderr).to.equal(0);

    // Seal age 5: the kept day (3 days old) stays writable for other tests' events on the shared engine.
    const applied = await runScript('retention', ['--days', '6', '--pattern', pattern, '--yes'], {
      AUDIT_SEAL_AFTER_DAYS: '5',
    });
    expect(applied.code, applied.stderr).to.equal(0);
    for (const d of [old1, old2]) {
      expect((await store.indices.exists({ index: dayIndex(`${d}T00:00:00Z`) })).body, d).to.equal(false);
    }

    const after = await verify(orgId);
    expect(after.stdout).not.to.contain('event-missing');
    expect(after.code, after.stdout + after.stderr).to.equal(0);
    expect(after.stdout).to.contain('expired: 10 sealed events deleted with their day by retention');
    expect(applied.stdout).to.contain('The retention of 6 days is stored in the cluster');

    const keptIndex = dayIndex(`${kept}T00:00:00Z`);
    const table = await runScript('indices', ['--pattern', keptIndex]);
    expect(table.code, table.stderr).to.equal(0);
    expect(table.stdout).to.contain('Retention: 6 days (stored in the cluster');
    const explained = await runScript('indices', ['--explain', keptIndex]);
    expect(explained.code, explained.stderr).to.equal(0);
    expect(explained.stdout).to.contain('delete at 6 day(s)');

    // A longer retention later does not turn the days already deleted into findings.
    const longer = await runScript('retention', ['--days', '400', '--pattern', 'audit-logs-1899.*', '--yes']);
    expect(longer.code, longer.stderr).to.equal(0);
    const again = await verify(orgId);
    expect(again.code, again.stdout + again.stderr).to.equal(0);
    expect(again.stdout).to.contain('expired: 10 sealed events');
  });

  it('a running instance applies a change at its next lifecycle sweep', async () => {
    const day = daysAgo(30);
    const index = dayIndex(`${day}T00:00:00Z`);
    await store.delete(
      { index: INTERNAL.service, id: SETTING_IDS.retention, refresh: true },
      { ignore: [404] },
    );
    await store.indices.delete({ index }, { ignore: [404] });
    const id = uniqueId('evt');
    await store.create({
      index,
      id,
      refresh: true,
      body: {
        id,
        orgId: 'org_ret',
        action: 'workflow.created',
        resourceType: 'workflow',
        createdAt: `${day}T12:00:00Z`,
      },
    });
    const { log, lines } = memoryLogger();
    // Nothing sealed or consolidated on the way: only the retention decides about this day.
    const cfg = testConfig({
      AUDIT_LIFECYCLE_SWEEP_SECONDS: '1',
      AUDIT_SEAL_AFTER_DAYS: '36499',
      AUDIT_RETENTION_DAYS: '36500',
    });
    const sweep = startLifecycleSweep(store, cfg, log, undefined, { pattern: index });
    const exists = async () => (await store.indices.exists({ index })).body;
    try {
      await new Promise((r) => setTimeout(r, 2500));
      expect(await exists(), 'kept by AUDIT_RETENTION_DAYS while nothing is stored').to.equal(true);
      // Stored by the command, applied by it to other days only: this one is the instance's own sweep's job.
      const set = await runScript('retention', ['--days', '20', '--pattern', 'audit-logs-1899.*', '--yes']);
      expect(set.code, set.stderr).to.equal(0);
      const until = Date.now() + 10_000;
      while ((await exists()) && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
      expect(await exists(), 'deleted by the running sweep with the stored 20 days').to.equal(false);
      expect(lines.map((l) => l.msg)).to.include('lifecycle: retention 20 days (set in the cluster)');
    } finally {
      await sweep.stop();
      await store.indices.delete({ index }, { ignore: [400, 404] });
    }
  });
});
