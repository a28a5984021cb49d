/**
 * `npx tsx scripts/bench-streams.ts`: push streams under load (issue #27's targets). The service runs as a
 * process of its own (dist/start.mjs, as `npm start` runs it, sealing on with its default interval), the
 * receivers beside it: S3Proxy (a real S3-compatible server) and a Standard Webhooks receiver that verifies
 * every signature. Measures catching up a sealed backlog, ingest with and without a stream delivering,
 * acknowledgement-to-receipt latency at a steady rate, and the service's RSS with 100 streams in 100 orgs.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { formatTable, intFlag, runCli, stringFlag, UsageError } from './lib/cli.ts';
import { loadConfig, PROJECT_ROOT } from '../src/config.ts';
import { unsealedCount } from '../src/integrity/seals.ts';
import type { Store } from '../src/store/client.ts';
import { orgEntries, seedSealedBacklog } from './lib/bench/backlog.ts';
import { ingestBatch, ingestFullRate, ingestSteady } from './lib/bench/http-ingest.ts';
import { writeBenchResult, type Metric } from './lib/bench/results.ts';
import { engineCpuSeconds, processCpuSeconds } from './lib/bench/cpu.ts';
import { ServiceProcess } from './lib/bench/service-process.ts';
import { WebhookSink } from './lib/bench/webhook-sink.ts';
import { connectForScript } from './lib/connect.ts';
import { startS3Proxy, type S3Proxy } from './lib/s3proxy.ts';
import { benchEvent } from './lib/bench/backlog.ts';

const PHASES = ['catchup', 'ingest', 'latency', 'rss'] as const;

const HELP = `Usage: npx tsx scripts/bench-streams.ts [--events N] [--ingest-seconds S] [--latency-seconds L]
                                     [--rate R] [--streams K] [--rss-seconds T] [--phases LIST]
                                     [--seal-interval I] [--profile DIR]

Runs the service as its own process (dist/start.mjs, default sealing interval) with S3Proxy and a signature-
verifying webhook receiver on 127.0.0.1, and measures, in phases (--phases, default all: ${PHASES.join(',')}):
  catchup  N events (default 1000000) of one org, written and sealed beforehand through the write path (fast,
           in this process), then a stream created at the start of the org's log: events/s until the whole
           backlog is delivered, to S3 (objects of 2,000) and then to the webhook (batches of 1,000), each alone.
  ingest   HTTP ingest at full rate (4 producers x 1,000-event batches) for S seconds (default 60) into a fresh
           org, without and then with a webhook stream on that org: events/s, what the stream had delivered
           and what was not sealed yet when ingest stopped, and how long until it had delivered everything.
  latency  R events/s (default 1000) for L seconds (default 120) into a fresh org with a webhook stream: the
           time from each event's ingest acknowledgement to the receiver having it, p50/p99/max.
  rss      a fresh service process; K orgs (default 100), each with its stream (alternately webhook and S3),
           a backlog of 1,000 events each, then 500 events/s spread over them for T seconds (default 60) until
           every stream has delivered everything: the service's RSS (p50, max).
--seal-interval I sets the service's AUDIT_SEAL_INTERVAL_SECONDS (default: its default, 10): an event reaches a
stream only once sealed, so this bounds the latency from below.
--profile DIR runs the service with --cpu-prof (profiles written to DIR when it stops).

Only against a local, throw-away engine (the events stay):
  npm run engine -- start --instance streamsbench     (prints its URL)
  OPENSEARCH_URL=<that url> npx tsx scripts/bench-streams.ts --events 200000`;

const OPTIONS = {
  events: { type: 'string' },
  'ingest-seconds': { type: 'string' },
  'latency-seconds': { type: 'string' },
  rate: { type: 'string' },
  streams: { type: 'string' },
  'rss-seconds': { type: 'string' },
  phases: { type: 'string' },
  'seal-interval': { type: 'string' },
  profile: { type: 'string' },
} as const;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.floor(q * (xs.length - 1))]!;
const round1 = (x: number) => Number(x.toFixed(1));

interface StreamView {
  id: string;
  delivered: number;
  lagSeconds: number;
  status: string;
  lastError: string | null;
}

runCli(HELP, { options: OPTIONS }, async (args) => {
  const events = intFlag(args, 'events', { default: 1_000_000, min: 1000, max: 10_000_000 });
  const ingestSeconds = intFlag(args, 'ingest-seconds', { default: 60, max: 600 });
  const latencySeconds = intFlag(args, 'latency-seconds', { default: 120, max: 600 });
  const rate = intFlag(args, 'rate', { default: 1000, max: 20_000 });
  const streamCount = intFlag(args, 'streams', { default: 100, max: 1000 });
  const rssSeconds = intFlag(args, 'rss-seconds', { default: 60, max: 600 });
  const phases = (stringFlag(args, 'phases') ?? PHASES.join(',')).split(',');
  for (const p of phases)
    if (!(PHASES as readonly string[]).includes(p))
      throw new UsageError(`unknown phase "${p}"; choose from ${PHASES.join(', ')}`);
  const profileDir = stringFlag(args, 'profile');
  const sealInterval = stringFlag(args, 'seal-interval');
  if (sealInterval !== undefined) intFlag(args, 'seal-interval', { max: 3600 });

  // One state directory for this process and the service, kept between runs: the same signing key seals in
  // both, and in every run on the same engine (a sealer's first round looks at every org's newest seal).
  const stateDir = path.join(PROJECT_ROOT, '.cache', 'bench-streams');
  fs.mkdirSync(stateDir, { recursive: true });
  const adminToken = crypto.randomBytes(24).toString('hex');
  const serviceEnv = {
    AUDIT_LOGS_ENABLED: 'true',
    AUDIT_ADMIN_TOKEN: adminToken,
    AUDIT_STATE_DIR: stateDir,
    AUDIT_LIFECYCLE_SWEEP_SECONDS: '0',
    AUDIT_RATE_LIMIT_PER_MINUTE: '1000000',
    // The receivers listen on 127.0.0.1, over plain http.
    AUDIT_STREAM_ALLOW_PRIVATE: 'true',
    LOG_LEVEL: 'warn',
    ...(sealInterval ? { AUDIT_SEAL_INTERVAL_SECONDS: sealInterval } : {}),
  };
  Object.assign(process.env, serviceEnv);
  const cfg = loadConfig();
  if (!cfg.opensearchUrl || !/^https?:\/\/(127\.0\.0\.1|localhost)(:\d+)?\/?$/.test(cfg.opensearchUrl))
    throw new UsageError(
      'set OPENSEARCH_URL to a local throw-away engine (http://127.0.0.1:<port>); see --help',
    );
  const { store, close } = await connectForScript(cfg);
  const nodeArgs = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(profileDir)}`] : [];
  const env = { ...serviceEnv, OPENSEARCH_URL: cfg.opensearchUrl };

  const metrics: Record<string, Metric> = {};
  const details: Record<string, unknown> = { sealIntervalSeconds: cfg.sealIntervalMs / 1000 };
  const tag = crypto.randomBytes(3).toString('hex');
  let s3: S3Proxy | undefined;
  const sink = await new WebhookSink().start();
  let service = new ServiceProcess(env, adminToken, nodeArgs);
  const made: { orgId: string; id: string }[] = [];
  try {
    s3 = await startS3Proxy();
    await s3.createBucket('bench');
    const s3Settings = (prefix: string) => ({
      endpoint: s3!.endpoint,
      region: s3!.region,
      bucket: 'bench',
      prefix,
      accessKeyId: s3!.accessKeyId,
      secretAccessKey: s3!.secretAccessKey,
      forcePathStyle: true,
    });
    const webhookSettings = (name: string) => {
      const secret = `whsec_${crypto.randomBytes(24).toString('base64')}`;
      return { url: sink.route(name, secret), secret };
    };
    const createStream = async (orgId: string, type: 'webhook' | 's3', name: string) => {
      const created = await service.admin<StreamView>('POST', `/orgs/${orgId}/streams`, {
        type,
        name,
        settings: type === 's3' ? s3Settings(`${name}`) : webhookSettings(name),
      });
      made.push({ orgId, id: created.id });
      return created;
    };
    const viewOf = (orgId: string, id: string) =>
      service.admin<StreamView>('GET', `/orgs/${orgId}/streams/${id}`);
    const newOrg = async (orgId: string) => {
      await service.admin('PUT', `/orgs/${orgId}`, { name: 'Streams benchmark', plan: 'enterprise' });
      return (await service.admin<{ key: string }>('POST', '/ingest-keys', { orgId })).key;
    };
    /** Waits until the stream delivered `count` entries (the org's whole log when undefined); seconds taken. */
    const waitDelivered = async (orgId: string, id: string, count: number | undefined, timeoutS: number) => {
      const t0 = performance.now();
      for (;;) {
        const target = count ?? (await wholeLog(store, orgId));
        const v = await viewOf(orgId, id);
        if (target !== undefined && v.delivered >= target)
          return { seconds: (performance.now() - t0) / 1000, view: v };
        if (v.status !== 'active')
          console.error(`stream ${id}: ${v.status} ${v.lastError ?? ''} (waiting on)`);
        if (performance.now() - t0 > timeoutS * 1000)
          throw new Error(
            `stream ${id} did not deliver ${target} entries within ${timeoutS} s (delivered ${v.delivered}); ` +
              `the service's last lines:\n${service.lastLines(20).join('\n')}`,
          );
        await sleep(250);
      }
    };

    // CPU seconds so far of the service, the engine (all its nodes), S3Proxy and this process (the webhook receiver).
    const cpuNow = async () => {
      const engine = await engineCpuSeconds(store);
      const { user, system } = process.cpuUsage();
      return {
        service: service.cpuSeconds(),
        engine,
        s3proxy: processCpuSeconds(s3!.pid),
        bench: (user + system) / 1e6,
      };
    };

    if (phases.includes('catchup')) {
      const orgId = `bench_streams_backlog_${tag}`;
      console.error(`seeding a sealed backlog of ${events} events (org ${orgId}) …`);
      const seeded = await seedSealedBacklog(cfg, store, orgId, events);
      const backlog = await orgEntries(store, orgId);
      console.error(`${backlog} entries sealed in ${seeded.seconds.toFixed(1)} s`);
      await service.start();
      const catchup: Record<string, unknown> = { backlog, seedSeconds: round1(seeded.seconds) };
      for (const type of ['s3', 'webhook'] as const) {
        const name = `catchup-${type}-${tag}`;
        const cpu0 = await cpuNow();
        const receivedBefore = sink.entries;
        const t0 = performance.now();
        const stream = await createStream(orgId, type, name);
        const { view } = await waitDelivered(orgId, stream.id, backlog, 900);
        const secs = (performance.now() - t0) / 1000;
        const cpu1 = await cpuNow();
        const perEvent = (k: keyof typeof cpu0) => round1(((cpu1[k] - cpu0[k]) * 1e6) / backlog);
        const cpuUs = {
          service: perEvent('service'),
          engine: perEvent('engine'),
          receiver: type === 's3' ? perEvent('s3proxy') : perEvent('bench'),
        };
        const cpuTotal = cpuUs.service + cpuUs.engine + cpuUs.receiver;
        await service.admin('DELETE', `/orgs/${orgId}/streams/${stream.id}`);
        let received: number;
        if (type === 's3') {
          received = await countObjects(s3!, name);
        } else received = sink.entries - receivedBefore;
        const perSecond = Math.round(backlog / secs);
        console.log(
          `catch-up to ${type}: ${backlog} entries in ${secs.toFixed(1)} s = ${perSecond} events/s ` +
            `(${type === 's3' ? `${received} objects` : `${received} entries received`}, delivered ` +
            `${view.delivered}); CPU µs/event: service ${cpuUs.service}, engine ${cpuUs.engine}, ` +
            `receiver ${cpuUs.receiver} = ${cpuTotal.toFixed(1)}: on 2 cores of its own at most ` +
            `${Math.round(2e6 / cpuTotal)} events/s`,
        );
        catchup[type] = { seconds: round1(secs), perSecond, cpuMicrosPerEvent: cpuUs, received };
        metrics[`catch-up to ${type === 's3' ? 'S3' : 'webhook'}`] = {
          value: perSecond,
          unit: 'events/s',
          better: 'higher',
        };
      }
      details.catchup = catchup;
    }

    if (phases.includes('ingest') || phases.includes('latency')) {
      if (!service.pid) await service.start();
    }

    if (phases.includes('ingest')) {
      const rows: (string | number)[][] = [];
      const ingest: Record<string, unknown> = {};
      for (const withStream of [false, true]) {
        const orgId = `bench_streams_ingest_${withStream ? 'on' : 'off'}_${tag}`;
        const key = await newOrg(orgId);
        const stream = withStream ? await createStream(orgId, 'webhook', `ingest-${tag}`) : undefined;
        const r = await ingestFullRate({
          url: service.url,
          key,
          prefix: `in_${withStream ? 1 : 0}_${tag}`,
          producers: 4,
          size: 1000,
          seconds: ingestSeconds,
        });
        const perSecond = Math.round(r.events / r.seconds);
        let row = { events: r.events, seconds: round1(r.seconds), perSecond } as Record<string, number>;
        if (stream) {
          const atEnd = await viewOf(orgId, stream.id);
          const unsealed = await unsealedCount(store, orgId);
          const total = await orgEntries(store, orgId);
          const drained = await waitDelivered(orgId, stream.id, undefined, 300);
          row = {
            ...row,
            deliveredAtEnd: atEnd.delivered,
            deliveredPerSecond: Math.round(atEnd.delivered / r.seconds),
            notSealedAtEnd: unsealed,
            sealedNotDeliveredAtEnd: total - unsealed - atEnd.delivered,
            lagSecondsAtEnd: atEnd.lagSeconds,
            allDeliveredAfterSeconds: round1(drained.seconds),
          };
        }
        ingest[withStream ? 'withStream' : 'withoutStream'] = row;
        rows.push([
          withStream ? 'with a webhook stream' : 'without streams',
          r.events,
          row.seconds!,
          perSecond,
          row.deliveredAtEnd ?? '',
          row.notSealedAtEnd ?? '',
          row.sealedNotDeliveredAtEnd ?? '',
          row.allDeliveredAfterSeconds ?? '',
        ]);
        metrics[`ingest ${withStream ? 'with' : 'without'} a stream`] = {
          value: perSecond,
          unit: 'events/s',
          better: 'higher',
        };
      }
      console.log(
        formatTable(
          [
            'ingest at full rate',
            'events',
            's',
            'events/s',
            'delivered by then',
            'not sealed yet',
            'sealed, not delivered',
            'all delivered after s',
          ],
          rows,
        ),
      );
      details.ingest = ingest;
    }

    if (phases.includes('latency')) {
      const orgId = `bench_streams_latency_${tag}`;
      const key = await newOrg(orgId);
      const acked = new Map<string, number>();
      const latencies: number[] = [];
      sink.onBatch = (b) => {
        for (const e of b.entries) {
          const at = acked.get(e.id);
          if (at !== undefined) {
            latencies.push(b.at - at);
            acked.delete(e.id);
          }
        }
      };
      await createStream(orgId, 'webhook', `latency-${tag}`);
      const sent = await ingestSteady({
        url: service.url,
        key,
        prefix: `lat_${tag}`,
        perSecond: rate,
        seconds: latencySeconds,
        acked: (ids, at) => {
          for (const id of ids) acked.set(id, at);
        },
      });
      for (let waited = 0; acked.size > 0 && waited < 120_000; waited += 250) await sleep(250);
      sink.onBatch = undefined;
      // An entry the receiver had before its acknowledgement reached us counts as received at once.
      const ms = latencies.map((l) => Math.max(0, l));
      const p = (q: number) => Math.round(quantile(ms, q));
      console.log(
        `acknowledgement to receipt at ${rate} events/s for ${latencySeconds} s (${sent.events} events, ` +
          `${acked.size} never received, ${sent.lateTicks} ticks late): p50 ${p(0.5)} ms, p99 ${p(0.99)} ms, ` +
          `max ${p(1)} ms`,
      );
      details.latency = { events: sent.events, missing: acked.size, p50: p(0.5), p99: p(0.99), max: p(1) };
      metrics['ack-to-receipt p50'] = { value: p(0.5), unit: 'ms', better: 'lower' };
      metrics['ack-to-receipt p99'] = { value: p(0.99), unit: 'ms', better: 'lower' };
    }

    if (phases.includes('rss')) {
      // A fresh process: what the earlier phases left in its heap is not the 100 streams' doing.
      await service.stop();
      service = new ServiceProcess(env, adminToken, nodeArgs);
      await service.start();
      await sleep(5000);
      const idle = Math.round(service.rssMb());
      service.sampleRss();
      const orgs: { orgId: string; key: string; stream: string }[] = [];
      for (let k = 0; k < streamCount; k++) {
        const orgId = `bench_streams_rss_${k}_${tag}`;
        const key = await newOrg(orgId);
        const stream = await createStream(orgId, k % 2 === 0 ? 'webhook' : 's3', `rss-${k}-${tag}`);
        orgs.push({ orgId, key, stream: stream.id });
      }
      // A backlog for every stream at once, then a steady trickle into all of them.
      await Promise.all(
        orgs.map((o, k) =>
          ingestBatch(
            service.url,
            o.key,
            Array.from({ length: 1000 }, (_, i) => benchEvent(`rss_${k}_b_${i}`, i)),
          ),
        ),
      );
      const t0 = performance.now();
      const trickle: Promise<number>[] = [];
      for (let t = 0; performance.now() - t0 < rssSeconds * 1000; t++) {
        const due = t0 + t * 100;
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
        // 500 events/s: 5 orgs a tick, 10 events each, round-robin.
        for (let j = 0; j < 5; j++) {
          const k = (t * 5 + j) % orgs.length;
          trickle.push(
            ingestBatch(
              service.url,
              orgs[k]!.key,
              Array.from({ length: 10 }, (_, i) => benchEvent(`rss_${k}_${t}_${i}`, i)),
            ),
          );
        }
      }
      await Promise.all(trickle);
      for (const o of orgs) await waitDelivered(o.orgId, o.stream, undefined, 300);
      const rss = service.rss;
      const rssMax = Math.round(Math.max(...rss));
      const rssP50 = Math.round(quantile(rss, 0.5));
      console.log(
        `${streamCount} streams in ${streamCount} orgs: service RSS idle ${idle} MB; while delivering p50 ` +
          `${rssP50} MB, max ${rssMax} MB (${rss.length} samples)`,
      );
      details.rss = { streams: streamCount, idle, p50: rssP50, max: rssMax };
      metrics[`service RSS, ${streamCount} streams`] = { value: rssMax, unit: 'MB', better: 'lower' };
    }
  } finally {
    // The streams go with their receivers: left on the engine, a later run's service would keep retrying them.
    if (service.pid)
      for (const m of made)
        await service.admin('DELETE', `/orgs/${m.orgId}/streams/${m.id}`).catch(() => undefined);
    await service.stop();
    await sink.stop();
    await s3?.stop();
    await close();
  }
  writeBenchResult(
    'streams',
    {
      events,
      ingestSeconds,
      latencySeconds,
      rate,
      streams: streamCount,
      rssSeconds,
      phases: phases.join(','),
    },
    metrics,
    details,
  );
});

/** The org's whole log, once every entry of it is sealed; undefined while some are not. */
async function wholeLog(store: Store, orgId: string): Promise<number | undefined> {
  if ((await unsealedCount(store, orgId)) > 0) return undefined;
  return orgEntries(store, orgId);
}

/** Objects the S3 stream wrote under its prefix (S3Proxy's filesystem backend lists folders too: not counted). */
async function countObjects(s3: S3Proxy, prefix: string): Promise<number> {
  let n = 0;
  let token: string | undefined;
  do {
    const page = await s3.client.send(
      new ListObjectsV2Command({ Bucket: 'bench', Prefix: `${prefix}/`, ContinuationToken: token }),
    );
    n += (page.Contents ?? []).filter((c) => !c.Key!.endsWith('/')).length;
    token = page.NextContinuationToken;
  } while (token);
  return n;
}
