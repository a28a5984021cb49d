/**
 * `npx tsx scripts/bench-read.ts`: what a SIEM sees when it exports an org by following nextCursor. Writes N events
 * for a fresh org through the real ingest path, then walks GET /api/v1/audit-logs page by page over HTTP until
 * nextCursor is absent, checking that every entry arrives exactly once and in order.
 */
import crypto from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { buildApp } from '../src/app.ts';
import { intFlag, Progress, runCli } from './lib/cli.ts';
import { loadConfig } from '../src/config.ts';
import { createApiKey } from '../src/directory/api-keys.ts';
import { putMember } from '../src/directory/members.ts';
import { putOrg } from '../src/directory/orgs.ts';
import { ingestEvents } from '../src/ingest/ingest.ts';
import { writeBenchResult } from './lib/bench/results.ts';
import { connectForScript } from './lib/connect.ts';

const HELP = `Usage: npx tsx scripts/bench-read.ts [--events N] [--limit L] [--concurrency C]

Creates a fresh enterprise org, ingests N events (default 100000) spread over the last 24 hours through the
ingest path (ingestEvents: ledger + day index, batches of 1000, C in parallel, default 2), then serves the API
in-process and follows nextCursor with limit=L (default 100) until it is absent. Fails unless every entry of
the org arrives exactly once, newest first. Prints count, time and pages/s.

The events stay in the cluster (day indices refuse deletes): point it at a throw-away engine, e.g.
  npm run engine -- start --instance bench   (prints its URL)
  OPENSEARCH_URL=<that url> npx tsx scripts/bench-read.ts

Environment: OPENSEARCH_URL (else the running local engine).`;

const OPTIONS = {
  events: { type: 'string' },
  limit: { type: 'string' },
  concurrency: { type: 'string' },
} as const;

runCli(HELP, { options: OPTIONS }, async (args) => {
  const total = intFlag(args, 'events', { default: 100_000, max: 10_000_000 });
  const limit = intFlag(args, 'limit', { default: 100, max: 100 });
  const concurrency = intFlag(args, 'concurrency', { default: 2, max: 16 });
  // Access lines would drown the bench's report (and cost time of their own).
  const cfg = {
    ...loadConfig(),
    auditLogsEnabled: true,
    rateLimitPerMinute: 1_000_000,
    logLevel: 'warn' as const,
  };
  const { store, close } = await connectForScript(cfg);
  const ctx = { cfg, store };
  const server = buildApp(ctx).listen(0, '127.0.0.1');
  try {
    await new Promise<void>((resolve) => server.once('listening', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const orgId = `bench_${crypto.randomBytes(6).toString('hex')}`;
    await putOrg(ctx, orgId, { name: 'Read benchmark', plan: 'enterprise' });
    await putMember(ctx, orgId, 'usr_siem', { email: 'siem@example.com', name: 'SIEM', role: 'owner' });
    const { key } = await createApiKey(ctx, orgId, { type: 'personal', userId: 'usr_siem' });

    // Ingest, newest first not required: ids and times are random, many events share a millisecond.
    const now = Date.now() - 60_000;
    const ingested = new Set<string>();
    const progress = new Progress('ingest', total);
    const t0 = performance.now();
    let next = 0;
    const worker = async () => {
      while (next < total) {
        const n = Math.min(1000, total - next);
        next += n;
        const batch = Array.from({ length: n }, () => ({
          action: 'workflow.deployed',
          resourceType: 'workflow',
          resourceId: `wf_${crypto.randomInt(1000)}`,
          actorId: 'usr_siem',
          createdAt: new Date(now - crypto.randomInt(24 * 3_600_000)).toISOString(),
        }));
        const results = await ingestEvents(ctx, { boundOrgId: orgId }, batch);
        for (const r of results) {
          if (r.status !== 'created')
            throw new Error(`ingest answered ${r.status} for ${r.id}: ${r.error ?? ''}`);
          ingested.add(r.id);
        }
        progress.tick(n);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    progress.finish();
    const ingestSeconds = (performance.now() - t0) / 1000;
    await store.indices.refresh({ index: 'audit-logs-*' });

    // Walk like a SIEM.
    const seen = new Set<string>();
    let prev: [number, string] | undefined;
    let pages = 0;
    let cursor: string | undefined;
    const walk = new Progress('read', ingested.size);
    const t1 = performance.now();
    do {
      const url = `${base}/api/v1/audit-logs?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const res = await fetch(url, { headers: { authorization: `Bearer ${key}` } });
      if (res.status !== 200)
        throw new Error(`page ${pages + 1} answered ${res.status}: ${await res.text()}`);
      const body = (await res.json()) as { data: { id: string; createdAt: string }[]; nextCursor?: string };
      pages++;
      for (const e of body.data) {
        const k: [number, string] = [Date.parse(e.createdAt), e.id];
        if (prev && (k[0] > prev[0] || (k[0] === prev[0] && k[1] >= prev[1]))) {
          throw new Error(`out of order or repeated at ${e.id} (page ${pages})`);
        }
        if (seen.has(e.id)) throw new Error(`entry ${e.id} arrived twice`);
        seen.add(e.id);
        prev = k;
      }
      walk.tick(body.data.length);
      cursor = body.nextCursor;
    } while (cursor);
    walk.finish();
    const readSeconds = (performance.now() - t1) / 1000;

    const missing = [...ingested].filter((id) => !seen.has(id));
    if (missing.length)
      throw new Error(`${missing.length} ingested entries never arrived, e.g. ${missing[0]}`);
    const directory = seen.size - ingested.size; // the org's own directory changes (created, member, key)
    console.log(
      `org ${orgId}: ${total} events ingested in ${ingestSeconds.toFixed(1)} s (${Math.round(total / ingestSeconds)}/s)`,
    );
    console.log(
      `read ${seen.size} entries (${ingested.size} ingested + ${directory} directory events) exactly once, in order: ` +
        `${pages} pages of ${limit} in ${readSeconds.toFixed(1)} s — ${(pages / readSeconds).toFixed(1)} pages/s, ` +
        `${Math.round(seen.size / readSeconds)} entries/s`,
    );
    writeBenchResult(
      'read',
      { events: total, limit },
      {
        'ingest events/s': { value: Math.round(total / ingestSeconds), unit: 'events/s', better: 'higher' },
        'cursor walk pages/s': {
          value: Number((pages / readSeconds).toFixed(1)),
          unit: 'pages/s',
          better: 'higher',
        },
      },
    );
  } finally {
    server.close();
    server.closeAllConnections();
    await close();
  }
});
