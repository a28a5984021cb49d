/**
 * The fault suite's moving parts, all real processes on loopback: a local OpenSearch it can kill, stop and
 * restart on the same port; the service as its own Node process (dist/start.mjs); producers that POST
 * batches with known ids and retry until each batch is acknowledged; and the checks every scenario ends
 * with (stored once, `npm run verify` clean, the SIEM stream delivering every id once).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, PROJECT_ROOT } from '../../src/config.ts';
import { LocalEngine } from '../../scripts/lib/engine/engine.ts';
import { unsealedCount } from '../../src/integrity/seals.ts';
import { createStore, type Store } from '../../src/store/client.ts';
import { AUDIT_INDEX_PATTERN, INTERNAL } from '../../src/store/names.ts';
import { serviceNodeArgs } from '../../scripts/service-args.ts';
import { TEST_SIGNING_KEY_PEM } from '../helpers.ts';
import { freePort } from '../../scripts/lib/engine/engine.ts';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A throw-away local engine that keeps its port when it is killed and started again. */
export class Engine {
  private engine!: LocalEngine;
  url = '';
  pid = 0;

  async start(): Promise<void> {
    if (!this.engine) {
      const cfg = loadConfig();
      this.engine = new LocalEngine(
        { ...cfg.engine, port: await freePort(), heapMin: '512m', heapMax: '512m' },
        { instance: `faults-${process.pid}`, log: () => undefined },
      );
    }
    const { state } = await this.engine.start();
    if (this.url && state.url !== this.url)
      throw new Error(`engine came back at ${state.url}, not ${this.url}`);
    this.url = state.url;
    this.pid = state.pid;
  }

  kill(): void {
    process.kill(this.pid, 'SIGKILL');
  }

  pause(): void {
    process.kill(this.pid, 'SIGSTOP');
  }

  resume(): void {
    process.kill(this.pid, 'SIGCONT');
  }

  async destroy(): Promise<void> {
    if (this.pid) {
      try {
        process.kill(this.pid, 'SIGCONT');
      } catch {
        // not running
      }
    }
    await this.engine?.reset(true);
  }
}

export const ADMIN_TOKEN = crypto.randomBytes(24).toString('hex');

/** The service as a real process (dist/start.mjs, as `npm start` runs it), on a fixed port. */
export class Service {
  private child: ChildProcess | undefined;
  private readonly stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-faults-'));
  port = 0;
  peakRssMb = 0;
  private sampler: NodeJS.Timeout | undefined;
  readonly output: string[] = [];

  constructor(
    private readonly opensearchUrl: () => string,
    private readonly env: Record<string, string> = {},
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (!this.port) this.port = await freePort();
    const child = spawn(process.execPath, serviceNodeArgs(), {
      cwd: PROJECT_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH ?? '',
        OPENSEARCH_URL: this.opensearchUrl(),
        PORT: String(this.port),
        AUDIT_LOGS_ENABLED: 'true',
        AUDIT_ADMIN_TOKEN: ADMIN_TOKEN,
        AUDIT_SIGNING_KEY: TEST_SIGNING_KEY_PEM,
        AUDIT_STATE_DIR: this.stateDir,
        AUDIT_SEAL_INTERVAL_SECONDS: '2',
        AUDIT_LIFECYCLE_SWEEP_SECONDS: '0',
        AUDIT_RATE_LIMIT_PER_MINUTE: '1000000',
        ...this.env,
      },
    });
    this.child = child;
    // An exit nobody asked for shows in the output that a failing scenario prints.
    child.once('exit', (code, signal) => this.output.push(`[harness] service exited: ${signal ?? code}`));
    for (const s of [child.stdout!, child.stderr!]) {
      s.setEncoding('utf8');
      s.on('data', (d: string) => this.output.push(...d.split('\n').filter(Boolean)));
    }
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`service exited: ${this.output.slice(-5).join(' | ')}`);
      try {
        const res = await fetch(`${this.url}/healthz`);
        if (res.ok) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error('service did not become healthy within 60 s');
      await sleep(250);
    }
    this.sampler = setInterval(() => this.sampleRss(), 200);
  }

  private sampleRss(): void {
    const pid = this.child?.pid;
    if (!pid) return;
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) this.peakRssMb = Math.max(this.peakRssMb, Number(m[1]) / 1024);
    } catch {
      // exited
    }
  }

  /** Ends the process: SIGKILL (a crash) or SIGTERM (an orderly stop). */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    clearInterval(this.sampler);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await Promise.race([exited, sleep(15_000).then(() => child.kill('SIGKILL'))]);
    await exited;
  }

  async admin(method: string, p: string, body?: object): Promise<Record<string, unknown>> {
    const res = await fetch(`${this.url}/api/v1/admin${p}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: body ? JSON.stringify(body) : undefined,
    });
    if (res.status >= 300) throw new Error(`${method} ${p}: ${res.status} ${await res.text()}`);
    return (await res.json()) as Record<string, unknown>;
  }
}

/** A new enterprise org with an owner, an ingest key bound to it and the owner's personal (read) key. */
export async function newOrg(svc: Service): Promise<{ orgId: string; ingestKey: string; readKey: string }> {
  const orgId = `org_faults_${crypto.randomBytes(4).toString('hex')}`;
  await svc.admin('PUT', `/orgs/${orgId}`, { name: 'Faults', plan: 'enterprise' });
  await svc.admin('PUT', `/orgs/${orgId}/members/usr_owner`, {
    email: 'owner@example.com',
    name: 'Owner',
    role: 'owner',
  });
  const ingest = await svc.admin('POST', '/ingest-keys', { orgId });
  const read = await svc.admin('POST', `/orgs/${orgId}/api-keys`, { type: 'personal', userId: 'usr_owner' });
  return { orgId, ingestKey: ingest.key as string, readKey: read.key as string };
}

export interface ProducerStats {
  /** Ids the service acknowledged (created, or duplicate on a retry: stored before). */
  acknowledged: Set<string>;
  batches: number;
  /** Answers that were not an acknowledgement (503s, connection errors), each followed by a retry. */
  retries: number;
  /** Events reported `duplicate` on the first attempt of their batch: must stay 0. */
  firstAttemptDuplicates: number;
  rejected: string[];
  /** The longest a request waited for any answer, in ms. */
  slowestAnswerMs: number;
  /** Answers by status (0 = no answer: connection refused or reset). */
  statuses: Map<number, number>;
}

/**
 * `n` producers posting batches of `size` events with known ids until `running()` turns false, each retrying a
 * batch (after Retry-After, at most 2 s) until it is acknowledged, and waiting `pauseMs` (default 0) after each
 * acknowledged batch; gives up with an error after `giveUpAt`.
 */
export async function produce(
  svc: Service,
  ingestKey: string,
  opts: { producers: number; size: number; running: () => boolean; giveUpAt: number; pauseMs?: number },
): Promise<ProducerStats> {
  const stats: ProducerStats = {
    acknowledged: new Set(),
    batches: 0,
    retries: 0,
    firstAttemptDuplicates: 0,
    rejected: [],
    slowestAnswerMs: 0,
    statuses: new Map(),
  };
  const tag = crypto.randomBytes(3).toString('hex');
  const count = (status: number) => stats.statuses.set(status, (stats.statuses.get(status) ?? 0) + 1);
  const one = async (p: number) => {
    let lastRefusal = '';
    for (let b = 0; opts.running(); b++) {
      const events = Array.from({ length: opts.size }, (_, i) => ({
        id: `f${tag}-${p}-${b}-${i}`,
        action: 'workflow.updated',
        resourceType: 'workflow',
        resourceId: `wf_${i % 50}`,
        actorId: 'usr_owner',
        actorEmail: 'owner@example.com',
        metadata: { producer: p, batch: b, i },
      }));
      const body = JSON.stringify({ events });
      for (let attempt = 1; ; attempt++) {
        if (Date.now() > opts.giveUpAt)
          throw new Error(
            `producer ${p} gave up on batch ${b}; last answer: ${lastRefusal}; ` +
              `the service's last lines:\n${svc.output.slice(-20).join('\n')}`,
          );
        const t0 = Date.now();
        let res: Response | undefined;
        try {
          res = await fetch(`${svc.url}/api/v1/audit-logs`, {
            method: 'POST',
            headers: { authorization: `Bearer ${ingestKey}`, 'content-type': 'application/json' },
            body,
            signal: AbortSignal.timeout(60_000),
          });
        } catch {
          res = undefined;
        }
        stats.slowestAnswerMs = Math.max(stats.slowestAnswerMs, Date.now() - t0);
        count(res?.status ?? 0);
        if (res && (res.status === 201 || res.status === 207)) {
          const { results } = (await res.json()) as {
            results: { id: string; status: string; error?: string }[];
          };
          for (const r of results) {
            if (r.status === 'rejected') stats.rejected.push(`${r.id}: ${r.error}`);
            else stats.acknowledged.add(r.id);
            if (r.status === 'duplicate' && attempt === 1) stats.firstAttemptDuplicates += 1;
          }
          stats.batches += 1;
          if (opts.pauseMs) await sleep(opts.pauseMs);
          break;
        }
        if (res && res.status !== 503 && res.status !== 429) {
          throw new Error(`unexpected answer ${res.status}: ${await res.text()}`);
        }
        lastRefusal = res ? `${res.status} ${(await res.text()).slice(0, 300)}` : 'no answer';
        stats.retries += 1;
        const after = Number(res?.headers.get('retry-after') ?? 1);
        await sleep(Math.min(2000, Math.max(200, after * 1000)));
      }
    }
  };
  await Promise.all(Array.from({ length: opts.producers }, (_, p) => one(p)));
  return stats;
}

export interface Outcome {
  acknowledged: number;
  stored: number;
  storedTwice: number;
  verifyExit: number | null;
  sealedTwice: number;
  verifyProblems: string[];
  delivered: number;
  deliveredTwice: number;
  notDelivered: number;
}

/** Waits (bounded) until every entry of the org is sealed. */
export async function waitSealed(store: Store, orgId: string, withinMs = 180_000): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    try {
      if ((await unsealedCount(store, orgId)) === 0) return;
    } catch {
      // the engine may still be recovering
    }
    if (Date.now() > deadline)
      throw new Error(`org ${orgId} still has unsealed entries after ${withinMs} ms`);
    await sleep(1000);
  }
}

/** The end of every scenario: stored once, verify clean, the stream delivering every id once. */
export async function check(
  svc: Service,
  engineUrl: string,
  org: { orgId: string; readKey: string },
  acknowledged: Set<string>,
): Promise<Outcome> {
  const store = createStore(engineUrl);
  try {
    await waitSealed(store, org.orgId);
    await store.indices.refresh({ index: `${AUDIT_INDEX_PATTERN},${INTERNAL.ledger}` });
    const res = await store.search({
      index: AUDIT_INDEX_PATTERN,
      body: {
        size: 0,
        query: { term: { orgId: org.orgId } },
        aggs: { twice: { terms: { field: 'id', min_doc_count: 2, size: 100 } } },
      },
      track_total_hits: true,
    } as never);
    const body = res.body as unknown as {
      hits: { total: { value: number } };
      aggregations: { twice: { buckets: unknown[] } };
    };

    const verify = spawnSync(
      process.execPath,
      ['--import', 'tsx', path.join(PROJECT_ROOT, 'scripts', 'verify.ts'), '--org', org.orgId, '--json'],
      {
        cwd: PROJECT_ROOT,
        encoding: 'utf8',
        env: {
          PATH: process.env.PATH ?? '',
          OPENSEARCH_URL: engineUrl,
          AUDIT_SIGNING_KEY: TEST_SIGNING_KEY_PEM,
        },
        timeout: 300_000,
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    let problems: { kind: string; message: string }[] = [];
    try {
      problems = (JSON.parse(verify.stdout) as { problems: { kind: string; message: string }[] }).problems;
    } catch {
      problems = [
        { kind: 'no-report', message: `${verify.stdout.slice(0, 500)} ${verify.stderr.slice(0, 500)}` },
      ];
    }

    const delivered = new Map<string, number>();
    let cursor: string | undefined;
    for (;;) {
      const url = `${svc.url}/api/v1/audit-logs/stream?limit=1000${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await fetchRetrying(url, { headers: { authorization: `Bearer ${org.readKey}` } });
      if (!page.ok) throw new Error(`stream: ${page.status} ${await page.text()}`);
      const json = (await page.json()) as { data: { id: string }[]; nextCursor: string; caughtUp: boolean };
      for (const e of json.data) delivered.set(e.id, (delivered.get(e.id) ?? 0) + 1);
      cursor = json.nextCursor;
      if (json.caughtUp) break;
    }
    const own = [...delivered.keys()].filter((id) => !id.startsWith('dir_'));
    return {
      acknowledged: acknowledged.size,
      stored: body.hits.total.value - (delivered.size - own.length),
      storedTwice: body.aggregations.twice.buckets.length,
      verifyExit: verify.status,
      sealedTwice: problems.filter((p) => p.kind === 'sealed-twice').length,
      verifyProblems: problems.slice(0, 5).map((p) => `${p.kind}: ${p.message}`),
      delivered: own.length,
      deliveredTwice: [...delivered.values()].filter((n) => n > 1).length,
      notDelivered: [...acknowledged].filter((id) => !delivered.has(id)).length,
    };
  } finally {
    await store.close();
  }
}

/**
 * fetch, tried again on a network error: a pooled keep-alive connection that the server closed while idle
 * (or one to a service process that was replaced) fails once before a new one is made.
 */
async function fetchRetrying(url: string, init: RequestInit): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fetch(url, init);
    } catch (err) {
      if (attempt === 3) throw err;
      await sleep(500);
    }
  }
}

/** Where the suite writes its figures (docs/reliability.md quotes them). */
export function record(name: string, figures: object): void {
  const dir = path.join(PROJECT_ROOT, 'test-artifacts');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'faults.json');
  const all = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as object) : {};
  fs.writeFileSync(file, JSON.stringify({ ...all, [name]: figures }, null, 2));
  console.log(`      ${name}: ${JSON.stringify(figures)}`);
}
