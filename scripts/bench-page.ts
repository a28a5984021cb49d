/**
 * `npx tsx scripts/bench-page.ts`: how long an admin waits for the first 50 rows of the audit log page, in
 * Chromium, for an org with a million events. Seeds the org once through the real ingest path (`seed`, the same
 * code as `npm run seed`), then opens the page repeatedly and times navigation start → 50 rows in the DOM.
 */
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { buildApp } from '../src/app.ts';
import { formatTable, intFlag, Progress, runCli, stringFlag } from './lib/cli.ts';
import { loadConfig } from '../src/config.ts';
import { createApiKey } from '../src/directory/api-keys.ts';
import { seed } from './lib/seed/run.ts';
import { writeBenchResult } from './lib/bench/results.ts';
import { connectForScript } from './lib/connect.ts';
import { AUDIT_INDEX_PATTERN } from '../src/store/names.ts';
import { KEY_STORAGE, launchChromium } from './lib/chromium.ts';
import { PAGE_PATH } from '../src/ui/ui-routes.ts';

const HELP = `Usage: npx tsx scripts/bench-page.ts [--events N] [--days D] [--runs R] [--org ID]

Seeds org ID (default page_bench_<N>) with N events (default 1000000) over the last D days (default 30)
through the ingest path — skipped when the org already holds N events — then serves the service in-process
and opens the admin page R times (default 7) in Chromium (/usr/bin/chromium), each in a fresh tab with the
owner's key, default view (past 30 days). Prints the time from navigation start until the first 50 rows are in
the page (first run = cold, then median and max of the others) and the list API's own latency; writes
bench/results/page.json.

The events stay in the cluster (day indices refuse deletes): point it at a throw-away engine, e.g.
  npm run engine -- start --instance bench   (prints its URL)
  OPENSEARCH_URL=<that url> npx tsx scripts/bench-page.ts

Environment: OPENSEARCH_URL (else the running local engine).`;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const OPTIONS = {
  events: { type: 'string' },
  days: { type: 'string' },
  runs: { type: 'string' },
  org: { type: 'string' },
} as const;

runCli(HELP, { options: OPTIONS }, async (args) => {
  const events = intFlag(args, 'events', { default: 1_000_000, max: 10_000_000 });
  const days = intFlag(args, 'days', { default: 30, max: 365 });
  const runs = intFlag(args, 'runs', { default: 7, max: 100 });
  const orgId = stringFlag(args, 'org') ?? `page_bench_${events}`;
  const base = loadConfig();
  // Seeded days must still accept events, and the page must be on.
  const cfg = {
    ...base,
    auditLogsEnabled: true,
    pageEnabled: true,
    sealAfterDays: Math.max(base.sealAfterDays, days + 2),
    retentionDays: Math.max(base.retentionDays, days + 3),
    rateLimitPerMinute: 1_000_000,
    // Access lines would drown the bench's report (and cost time of their own).
    logLevel: 'warn' as const,
  };
  const { store, url, close } = await connectForScript(cfg);
  const ctx = { cfg, store };
  const server = buildApp(ctx).listen(0, '127.0.0.1');
  const listening = new Promise<void>((resolve) => server.once('listening', resolve));
  const browser = await launchChromium();
  try {
    await listening;
    const service = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const count = async () =>
      (
        await store.count({
          index: AUDIT_INDEX_PATTERN,
          ignore_unavailable: true,
          body: { query: { term: { orgId } } },
        } as never)
      ).body.count as number;
    let have = await count();
    const seedOpts = { orgId, events, days, seed: 'page-bench', workspaces: 8, members: 60, concurrency: 4 };
    if (have < events) {
      console.error(
        `seeding ${orgId} with ${events.toLocaleString('en-US')} events over ${days} days (${url})`,
      );
      const progress = new Progress('ingest', events);
      const report = await seed(ctx, seedOpts, { onBatch: (n) => progress.tick(n) });
      progress.finish();
      await store.indices.refresh({ index: AUDIT_INDEX_PATTERN });
      console.error(
        `seeded ${report.created.toLocaleString('en-US')} in ${report.seconds.toFixed(0)} s ` +
          `(${Math.round(report.created / report.seconds).toLocaleString('en-US')}/s through ingest)`,
      );
      have = await count();
    }
    const members = await store.search({
      index: 'audit-internal-members',
      body: { query: { bool: { filter: [{ term: { orgId } }, { term: { role: 'owner' } }] } }, size: 1 },
    } as never);
    const ownerId = (members.body.hits.hits[0]?._source as { userId?: string } | undefined)?.userId;
    if (!ownerId) throw new Error(`no owner found for ${orgId}`);
    const { key } = await createApiKey(ctx, orgId, { type: 'personal', userId: ownerId });

    // The list request alone, as the page sends it (default view: past 30 days, 50 rows).
    const apiTimes: number[] = [];
    for (let i = 0; i < 10; i++) {
      const start = new Date(Date.now() - 30 * 86_400_000).toISOString();
      const t0 = performance.now();
      const res = await fetch(`${service}/api/v1/audit-logs?startDate=${start}&limit=50`, {
        headers: { authorization: `Bearer ${key}` },
      });
      await res.json();
      if (res.status !== 200) throw new Error(`list answered ${res.status}`);
      apiTimes.push(performance.now() - t0);
    }

    const pageTimes: number[] = [];
    for (let i = 0; i < runs + 1; i++) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      await context.addInitScript(([name, k]) => sessionStorage.setItem(name, k), [
        KEY_STORAGE,
        key,
      ] as const);
      const page = await context.newPage();
      await page.goto(`${service}${PAGE_PATH}`, { waitUntil: 'commit' });
      // performance.now() counts from navigation start; polled every animation frame, so rows are laid out.
      const ms = await page.waitForFunction(
        () => (document.querySelectorAll('#rows tr.entry').length >= 50 ? performance.now() : false),
        undefined,
        { polling: 'raf', timeout: 30_000 },
      );
      pageTimes.push((await ms.jsonValue()) as number);
      await context.close();
    }
    const [cold, ...warm] = pageTimes;
    const result = {
      date: new Date().toISOString(),
      orgId,
      events: have,
      days,
      page: {
        coldMs: Math.round(cold!),
        medianMs: Math.round(median(warm)),
        maxMs: Math.round(Math.max(...warm)),
        runs,
      },
      // Other work on the machine slows every figure: keep the load next to them.
      loadAverage: os.loadavg().map((l) => Number(l.toFixed(1))),
      cpus: os.cpus().length,
      listApi: { medianMs: Math.round(median(apiTimes)), maxMs: Math.round(Math.max(...apiTimes)) },
    };
    console.log(
      formatTable(
        ['measure', 'events in org', 'first run', 'median', 'max'],
        [
          [
            'page: first 50 rows visible',
            have.toLocaleString('en-US'),
            `${result.page.coldMs} ms`,
            `${result.page.medianMs} ms`,
            `${result.page.maxMs} ms`,
          ],
          [
            'list API (limit=50)',
            have.toLocaleString('en-US'),
            '',
            `${result.listApi.medianMs} ms`,
            `${result.listApi.maxMs} ms`,
          ],
        ],
      ),
    );
    console.log(`load average ${result.loadAverage.join(' / ')} (1/5/15 min) on ${result.cpus} CPUs`);
    writeBenchResult(
      'page',
      { events: have, days, runs },
      {
        'first 50 rows, median': { value: result.page.medianMs, unit: 'ms', better: 'lower' },
        'list API limit=50, median': { value: result.listApi.medianMs, unit: 'ms', better: 'lower' },
      },
      result,
    );
    if (result.page.medianMs > 1000) process.exitCode = 1;
  } finally {
    await browser.close();
    server.close();
    await close();
  }
});
