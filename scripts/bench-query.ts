/**
 * `npx tsx scripts/bench-query.ts`: reads at retention scale, the service beside the same question asked as raw
 * DSL and beside the PostgreSQL design (and its pg_trgm variant), in one run over the same events.
 */
import { DAY_MS } from '../src/days.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeBenchResult } from './lib/bench/results.ts';
import { serviceNodeArgs } from './service-args.ts';
import { formatTable, intFlag, Progress, runCli } from './lib/cli.ts';
import { loadConfig } from '../src/config.ts';
import { createApiKey } from '../src/directory/api-keys.ts';
import { listMembers, syncMembers } from '../src/directory/members.ts';
import type { Member } from '../src/directory/schemas.ts';
import type { StoredEvent } from '../src/events/schema.ts';
import { ingestEvents } from '../src/ingest/ingest.ts';
import { buildSearch } from '../src/query/build.ts';
import { parseListQuery } from '../src/query/query-params.ts';
import { generateEvents, seedWindow } from './lib/seed/events.ts';
import { seed, withRetry } from './lib/seed/run.ts';
import { buildWorld } from './lib/seed/world.ts';
import { facets, histogram } from '../src/query/aggregations.ts';
import { sweepLifecycle } from '../src/lifecycle/sweep.ts';
import { connectForScript } from './lib/connect.ts';
import { AUDIT_INDEX_PATTERN, eventDocId, indicesForRange, TEMPLATE_NAME } from '../src/store/names.ts';
import { freePort } from './lib/engine/engine.ts';

const HELP = `Usage: npx tsx scripts/bench-query.ts [--events N] [--days D] [--runs R] [--members M] [--departed K]
                                   [--write-events W]

Seeds N events (default 1000000) over D days (default 400) in four orgs (50/25/15/10 %) through the ingest
path, several producers at once, with a service running beside it (sealing on) — or reuses them when the
orgs already hold their events (OPENSEARCH_URL of an earlier run). Each org has M members (default 2000);
the second also K departed ones (default 100000, through the member sync), the third 10000. Runs the
lifecycle sweep as a service with the default seal age would have (past days sealed, past months
consolidated). Loads the same events into a throw-away PostgreSQL (Debian's server, initdb in a temp dir,
own port), then times each query class R times (default 20) through the service's HTTP API, as one raw
OpenSearch request, in PostgreSQL, and with pg_trgm. Then measures writes: W fresh events (default 100000)
through the ingest path vs raw _bulk of the same documents into an
identically mapped index. Prints one table and writes bench/results/query.json.`;

const SHARES = [0.5, 0.25, 0.15, 0.1];
const PG_BIN = fs.existsSync('/usr/lib/postgresql')
  ? path.join('/usr/lib/postgresql', fs.readdirSync('/usr/lib/postgresql').sort().pop()!, 'bin')
  : '';

type Timing = { p50: number; p99: number; rows: number };

function pct(values: number[], p: number): number {
  const v = [...values].sort((a, b) => a - b);
  return Number(v[Math.min(v.length - 1, Math.ceil(p * (v.length - 1)))]!.toFixed(1));
}

async function timeRuns(runs: number, fn: () => Promise<number>): Promise<Timing> {
  let rows = 0;
  for (let i = 0; i < 2; i++) rows = await fn(); // warm-up
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    rows = await fn();
    ms.push(performance.now() - t);
  }
  return { p50: pct(ms, 0.5), p99: pct(ms, 0.99), rows };
}

function run(cmd: string, args: string[], opts: { user?: string; input?: string } = {}): Promise<string> {
  const [bin, argv] = opts.user ? ['runuser', ['-u', opts.user, '--', cmd, ...args]] : [cmd, args];
  return new Promise((resolve, reject) => {
    const child = spawn(bin, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} failed: ${err}`))));
    child.stdin.end(opts.input ?? '');
  });
}

/** A throw-away PostgreSQL cluster owned by the postgres user, on its own port and socket directory. */
class Postgres {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-pg-'));
  port = 0;
  async start(): Promise<void> {
    fs.chownSync(this.dir, ...postgresIds());
    this.port = await freePort();
    await run(path.join(PG_BIN, 'initdb'), ['-D', `${this.dir}/data`, '-A', 'trust', '-E', 'UTF8'], {
      user: 'postgres',
    });
    const conf = `port=${this.port}\nunix_socket_directories='${this.dir}'\nlisten_addresses=''\nshared_buffers=256MB\nwork_mem=32MB\nmaintenance_work_mem=256MB\nfsync=off\nsynchronous_commit=off\n`;
    fs.appendFileSync(`${this.dir}/data/postgresql.conf`, conf);
    await run(
      path.join(PG_BIN, 'pg_ctl'),
      ['-D', `${this.dir}/data`, '-w', '-l', `${this.dir}/log`, 'start'],
      {
        user: 'postgres',
      },
    );
  }
  psqlArgs(): string[] {
    return ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', this.dir, '-p', String(this.port), '-U', 'postgres'];
  }
  sql(sql: string): Promise<string> {
    return run('psql', [...this.psqlArgs(), '-A', '-t', '-c', sql]);
  }
  async stop(): Promise<void> {
    await run(path.join(PG_BIN, 'pg_ctl'), ['-D', `${this.dir}/data`, '-m', 'immediate', 'stop'], {
      user: 'postgres',
    }).catch(() => undefined);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

function postgresIds(): [number, number] {
  const line = fs
    .readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error('no postgres user: install Debian’s postgresql package');
  const f = line.split(':');
  return [Number(f[2]), Number(f[3])];
}

/** One long-lived psql session: each query's time is psql's own `\timing` (server + protocol, no spawn). */
class PsqlSession {
  private child: ChildProcess;
  private buf = '';
  private waiting?: (out: string) => void;
  constructor(pg: Postgres) {
    this.child = spawn('psql', [...pg.psqlArgs(), '-A', '-t'], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.child.stdout!.on('data', (d) => {
      this.buf += d;
      const end = this.buf.indexOf('__END__\n');
      if (end >= 0 && this.waiting) {
        const out = this.buf.slice(0, end);
        this.buf = this.buf.slice(end + 8);
        const w = this.waiting;
        this.waiting = undefined;
        w(out);
      }
    });
    this.child.stdin!.write('\\timing on\n');
  }
  /** Runs `sql` (one statement, counted), returns [ms, rows]. */
  query(sql: string): Promise<[number, number]> {
    return new Promise((resolve, reject) => {
      this.waiting = (out) => {
        const t = /Time: ([\d.]+) ms/.exec(out);
        const n = /^(\d+)$/m.exec(out);
        if (!t) reject(new Error(`psql: ${out}`));
        else resolve([Number(t[1]), Number(n?.[1] ?? 0)]);
      };
      this.child.stdin!.write(`select count(*) from (${sql}) q;\n\\echo __END__\n`);
    });
  }
  close(): void {
    this.child.stdin!.end();
  }
}

const pgText = (v: unknown) =>
  v === undefined || v === null
    ? '\\N'
    : String(typeof v === 'object' ? JSON.stringify(v) : v).replace(/[\\\t\n\r]/g, (c) =>
        c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r',
      );
const PG_COLS = [
  'org_id',
  'id',
  'created_at',
  'action',
  'resource_type',
  'resource_id',
  'resource_name',
  'description',
  'actor_id',
  'actor_name',
  'actor_email',
  'workspace_id',
  'metadata',
];
const pgRow = (e: StoredEvent) =>
  [
    e.orgId,
    e.id,
    e.createdAt,
    e.action,
    e.resourceType,
    e.resourceId,
    e.resourceName,
    e.description,
    e.actorId,
    e.actorName,
    e.actorEmail,
    e.workspaceId,
    e.metadata,
  ]
    .map(pgText)
    .join('\t');

const SEARCHABLE = `(coalesce(action,'') || ' ' || coalesce(actor_email,'') || ' ' || coalesce(actor_name,'') || ' ' || coalesce(resource_name,'') || ' ' || coalesce(description,''))`;

const OPTIONS = {
  events: { type: 'string' },
  days: { type: 'string' },
  runs: { type: 'string' },
  members: { type: 'string' },
  departed: { type: 'string' },
  'write-events': { type: 'string' },
} as const;

runCli(HELP, { options: OPTIONS }, async (args) => {
  const total = intFlag(args, 'events', { default: 1_000_000, max: 20_000_000 });
  const days = intFlag(args, 'days', { default: 400, max: 3000 });
  const runs = intFlag(args, 'runs', { default: 20, max: 1000 });
  const members = intFlag(args, 'members', { default: 2000, max: 200_000 });
  const departedTarget = intFlag(args, 'departed', { default: 100_000, max: 200_000 });
  const writeEvents = intFlag(args, 'write-events', { default: 100_000, max: 1_000_000 });
  const env = {
    AUDIT_LOGS_ENABLED: 'true',
    AUDIT_SEAL_AFTER_DAYS: String(days + 1),
    AUDIT_RETENTION_DAYS: String(days + 2),
    AUDIT_RATE_LIMIT_PER_MINUTE: '1000000',
    AUDIT_REQUEST_TIMEOUT_SECONDS: '120',
    AUDIT_LOG_LEVEL: 'warn',
  };
  Object.assign(process.env, env);
  const cfg = loadConfig();
  const { store, close } = await connectForScript(cfg);
  const ctx = { cfg, store };

  // The service, in its own process, so its RSS is its own; its sealer seals what the producers write.
  const port = await freePort();
  const service = spawn(process.execPath, serviceNodeArgs(), {
    env: { ...process.env, PORT: String(port) },
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    let err = '';
    service.stderr!.on('data', (d) => {
      err += d;
      if (/listening on/.test(err)) resolve();
    });
    service.on('exit', (c) => reject(new Error(`service exited (${c}): ${err}`)));
  });
  const base = `http://127.0.0.1:${port}`;
  const pg = new Postgres();
  // Interrupted: stop the service and the PostgreSQL cluster this run started, then exit.
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => {
      service.kill('SIGTERM');
      void pg.stop().finally(() => process.exit(130));
    });
  const details: Record<string, unknown> = { events: total, days, runs, members };
  try {
    // --- seed (or reuse) ---
    const orgs = SHARES.map((s, k) => ({ orgId: `qb${total}_${days}_${k}`, events: Math.round(total * s) }));
    const counts = await Promise.all(
      orgs.map(async (o) => {
        const r = await store.count({
          index: AUDIT_INDEX_PATTERN,
          ignore_unavailable: true,
          allow_no_indices: true,
          body: { query: { term: { orgId: o.orgId } } },
        } as never);
        return (r.body as { count: number }).count;
      }),
    );
    // An org that already holds its events (an earlier run on this cluster) is reused; the others are seeded
    // (again: ingest answers `duplicate` for what an interrupted run already wrote).
    const missing = orgs.filter((o, k) => counts[k]! < o.events);
    if (missing.length === 0) console.error(`reusing ${total} seeded events`);
    else {
      const todo = missing.reduce((n, o) => n + o.events, 0);
      const progress = new Progress('seed', todo);
      const t0 = performance.now();
      await Promise.all(
        missing.map((o) =>
          seed(
            ctx,
            { orgId: o.orgId, events: o.events, days, seed: 'bench', workspaces: 8, members, concurrency: 2 },
            { onBatch: (n) => progress.tick(n) },
          ),
        ),
      );
      progress.finish();
      const secs = (performance.now() - t0) / 1000;
      details.seed = { events: todo, seconds: secs, eventsPerSecond: Math.round(todo / secs) };
      console.error(
        `seeded ${todo} events in ${secs.toFixed(0)} s (${Math.round(todo / secs)}/s, sealing on)`,
      );
    }
    // Departed members (alumni who joined and left through the member sync): the issue's 10,000 in the third
    // org, and --departed (100,000) in the second, where the lookups would outgrow one document.
    details.memberSync = [];
    for (const [org, target] of [
      [orgs[1]!.orgId, departedTarget],
      [orgs[2]!.orgId, 10_000],
    ] as const) {
      const all = await listMembers(ctx, org);
      const departedNow = all.filter((m) => m.leftAt).length;
      if (departedNow >= target) continue;
      const entry = (m: { userId: string; email: string; name: string; role: Member['role'] }) => ({
        userId: m.userId,
        email: m.email,
        name: m.name,
        role: m.role,
      });
      const current = all.filter((m) => !m.leftAt).map(entry);
      const alumni = Array.from({ length: target - departedNow }, (_, i) => ({
        userId: `alum_${i}`,
        email: `alum${i}@example.com`,
        name: `Alum ${i}`,
        role: 'member' as const,
      }));
      const t = performance.now();
      await syncMembers(ctx, org, [...current, ...alumni]);
      const joinSecs = (performance.now() - t) / 1000;
      const t2 = performance.now();
      await syncMembers(ctx, org, current);
      const leaveSecs = (performance.now() - t2) / 1000;
      (details.memberSync as object[]).push({ org, members: alumni.length, joinSecs, leaveSecs });
      console.error(
        `member sync (${org}): ${alumni.length} joined in ${joinSecs.toFixed(1)} s, departed in ${leaveSecs.toFixed(1)} s`,
      );
    }
    // The lifecycle as a service with the default seal age would have run it by now: past days sealed, past
    // months consolidated (the service above accepts the back-filled days, so its own sweep seals nothing).
    {
      const t = performance.now();
      const sweep = await sweepLifecycle(store, { sealAfterDays: 2, retentionDays: days + 2 });
      const count = (action: string) => sweep.actions.filter((a) => a.action === action && !a.error).length;
      const failed = sweep.actions.filter((a) => a.error);
      if (failed.length > 0) throw new Error(`lifecycle sweep: ${JSON.stringify(failed.slice(0, 3))}`);
      const secs = (performance.now() - t) / 1000;
      details.lifecycle = { sealed: count('sealed'), consolidated: count('consolidated'), seconds: secs };
      console.error(
        `lifecycle: ${count('sealed')} days sealed, ${count('consolidated')} months consolidated in ${secs.toFixed(0)} s`,
      );
    }
    await store.indices.refresh({ index: AUDIT_INDEX_PATTERN });

    // --- PostgreSQL: the same events ---
    await pg.start();
    await pg.sql(
      `create extension pg_trgm;
       create table events (org_id text not null, id text not null, created_at timestamptz not null, action text,
         resource_type text, resource_id text, resource_name text, description text, actor_id text, actor_name text,
         actor_email text, workspace_id text, metadata jsonb, primary key (org_id, id));
       create table departed (org_id text not null, user_id text not null, primary key (org_id, user_id));`,
    );
    const load = new Progress('postgres load', total);
    const t1 = performance.now();
    const copy = spawn('psql', [...pg.psqlArgs(), '-c', `copy events (${PG_COLS.join(',')}) from stdin`], {
      stdio: ['pipe', 'inherit', 'inherit'],
    });
    const copied = new Promise<void>((resolve, reject) =>
      copy.on('exit', (c) => (c === 0 ? resolve() : reject(new Error(`copy failed (${c})`)))),
    );
    // Day index by day: one scroll over all of them would hold a search context per shard (400+ of them).
    const days400 = (
      (await store.cat.indices({ index: AUDIT_INDEX_PATTERN, format: 'json', h: 'index' } as never))
        .body as unknown as { index: string }[]
    ).map((i) => i.index);
    for (const index of days400) {
      let res = await store.search({
        index,
        scroll: '1m',
        size: 5000,
        body: { query: { terms: { orgId: orgs.map((o) => o.orgId) } }, sort: ['_doc'] },
      } as never);
      for (;;) {
        if ((res.body._shards as { failed: number }).failed > 0) throw new Error(`reading ${index} failed`);
        const hits = (res.body.hits.hits as unknown as { _source: StoredEvent }[]) ?? [];
        if (hits.length === 0) break;
        const chunk = hits.map((h) => pgRow(h._source)).join('\n') + '\n';
        if (!copy.stdin!.write(chunk)) await new Promise((r) => copy.stdin!.once('drain', r));
        load.tick(hits.length);
        res = await store.scroll({ body: { scroll_id: res.body._scroll_id!, scroll: '1m' } } as never);
      }
      await store.clearScroll({ body: { scroll_id: res.body._scroll_id! } } as never).catch(() => undefined);
    }
    copy.stdin!.end();
    await copied;
    load.finish();
    const departedRows: string[] = [];
    for (const o of orgs)
      for (const m of await listMembers(ctx, o.orgId))
        if (m.leftAt) departedRows.push(`${o.orgId}\t${m.userId}`);
    await run('psql', [...pg.psqlArgs(), '-c', 'copy departed from stdin'], {
      input: departedRows.join('\n') + '\n',
    });
    await pg.sql(
      `create index on events (workspace_id, created_at);
       create index on events (actor_id, created_at);
       create index on events (resource_type, resource_id);
       create index on events (action);
       create index on events (created_at, id);
       analyze events; analyze departed;`,
    );
    const loadSecs = (performance.now() - t1) / 1000;
    const t2 = performance.now();
    await pg.sql(
      `create index events_trgm on events using gin (${SEARCHABLE} gin_trgm_ops); analyze events;`,
    );
    details.postgres = { loadAndIndexSeconds: loadSecs, trgmIndexSeconds: (performance.now() - t2) / 1000 };

    // --- the query classes, on the largest org (the departed classes on the third and the second) ---
    const big = orgs[0]!;
    const keyOf = async (orgId: string) => {
      const owner = (await listMembers(ctx, orgId)).find((m) => m.role === 'owner')!;
      return (await createApiKey(ctx, orgId, { type: 'personal', userId: owner.userId })).key;
    };
    const keys = Object.fromEntries(
      await Promise.all(orgs.map(async (o) => [o.orgId, await keyOf(o.orgId)])),
    );
    const pick = async (sql: string) => (await pg.sql(sql)).trim().split('\n')[0]!.split('|');
    const [action, ws] = await pick(
      `select action, workspace_id from events where org_id='${big.orgId}' and workspace_id is not null
       group by 1,2 order by count(*) desc limit 1`,
    );
    const [actor] = await pick(
      `select actor_id from events where org_id='${big.orgId}' and actor_id is not null
       and actor_id not in (select user_id from departed) group by 1 order by count(*) desc offset 5 limit 1`,
    );
    const [rtype, rid] = await pick(
      `select resource_type, resource_id from events where org_id='${big.orgId}' group by 1,2
       order by count(*) desc offset 20 limit 1`,
    );
    const words = (
      await pg.sql(
        `select w, count(*) from (select regexp_split_to_table(lower(description), '[^a-z]+') w from events
         where org_id='${big.orgId}' and created_at > now() - interval '30 days') t where length(w) >= 5
         group by w order by 2 desc`,
      )
    )
      .trim()
      .split('\n')
      .map((l) => l.split('|'));
    const common = words[0]![0]!;
    const rare = words.find((w) => Number(w[1]) <= 3)?.[0] ?? words[words.length - 1]![0]!;
    const iso = (ms: number) => new Date(ms).toISOString();
    const now = Date.now();
    details.picked = { action, ws, actor, rtype, rid, common, rare };

    type Cls = { name: string; org: string; q: Record<string, string>; where: string; trgm?: string };
    const esc = (s: string) => s.replace(/'/g, "''");
    const ilike = (w: string) =>
      `(${['action', 'actor_email', 'actor_name', 'resource_name', 'description'].map((c) => `${c} ilike '%${esc(w)}%'`).join(' or ')})`;
    const classes: Cls[] = [
      { name: 'first page', org: big.orgId, q: {}, where: '' },
      {
        name: 'action + workspace + 7 days',
        org: big.orgId,
        q: { action: action!, workspaceId: ws!, startDate: iso(now - 7 * DAY_MS) },
        where: `and action = '${action}' and workspace_id = '${ws}' and created_at >= '${iso(now - 7 * DAY_MS)}'`,
      },
      { name: 'actorId', org: big.orgId, q: { actorId: actor! }, where: `and actor_id = '${actor}'` },
      {
        name: 'resourceType + resourceId',
        org: big.orgId,
        q: { resourceType: rtype!, resourceId: rid! },
        where: `and resource_type = '${rtype}' and resource_id = '${esc(rid!)}'`,
      },
      {
        name: `search common word (${common})`,
        org: big.orgId,
        q: { search: common },
        where: `and ${ilike(common)}`,
        trgm: `and ${SEARCHABLE} ilike '%${esc(common)}%'`,
      },
      {
        name: `search rare word (${rare})`,
        org: big.orgId,
        q: { search: rare },
        where: `and ${ilike(rare)}`,
        trgm: `and ${SEARCHABLE} ilike '%${esc(rare)}%'`,
      },
      {
        name: 'endDate 56 days back',
        org: big.orgId,
        q: { endDate: iso(now - 56 * DAY_MS) },
        where: `and created_at <= '${iso(now - 56 * DAY_MS)}'`,
      },
      ...[orgs[2]!.orgId, orgs[1]!.orgId].map((org) => ({
        name: `includeDeparted=false, ${departedRows.filter((r) => r.startsWith(`${org}\t`)).length} departed`,
        org,
        q: {},
        where: '',
      })),
    ];
    const departedSql = (org: string, q: Record<string, string>) =>
      q.actorId
        ? ''
        : `and not exists (select 1 from departed d where d.org_id = '${org}' and d.user_id = e.actor_id)`;
    const pageSql = (c: Cls, extra: string, after = '') =>
      `select id from events e where org_id = '${c.org}' ${extra} ${departedSql(c.org, c.q)} ${after}
       order by created_at desc, id desc limit 51`;

    const rss: number[] = [];
    const sampler = setInterval(() => {
      const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${service.pid}/status`, 'utf8'));
      if (m) rss.push(Number(m[1]) / 1024);
    }, 100);
    const api = async (org: string, p: string, q: Record<string, string>) => {
      const r = await fetch(`${base}${p}?${new URLSearchParams(q)}`, {
        headers: { authorization: `Bearer ${keys[org]}` },
      });
      if (r.status !== 200) throw new Error(`${p} answered ${r.status}: ${await r.text()}`);
      return r.json() as Promise<{ data?: unknown[]; nextCursor?: string }>;
    };
    const raw = async (org: string, q: Record<string, string>, after?: [number, string]) => {
      const filters = parseListQuery(q).filters;
      if (q.actorId) filters.includeDeparted = true;
      const r = await store.search(buildSearch(filters, { orgId: org }, 51, after) as never);
      return (r.body.hits.hits as unknown[]).length;
    };
    const session = new PsqlSession(pg);
    const pgTime = async (sql: string) => {
      const ms: number[] = [];
      let rows = 0;
      for (let i = 0; i < runs + 2; i++) {
        const [t, n] = await session.query(sql);
        rows = n;
        if (i >= 2) ms.push(t);
      }
      return { p50: pct(ms, 0.5), p99: pct(ms, 0.99), rows };
    };
    const rows: { name: string; product: Timing; raw?: Timing; pg?: Timing; trgm?: Timing }[] = [];
    for (const c of classes) {
      console.error(`query: ${c.name}`);
      rows.push({
        name: c.name,
        product: await timeRuns(runs, async () => (await api(c.org, '/api/v1/audit-logs', c.q)).data!.length),
        raw: await timeRuns(runs, () => raw(c.org, c.q)),
        pg: await pgTime(pageSql(c, c.where)),
        ...(c.trgm ? { trgm: await pgTime(pageSql(c, c.trgm)) } : {}),
      });
    }
    // The admin page's histogram and facets, 30 days.
    const start30 = iso(now - 30 * DAY_MS);
    const org30 = big.orgId;
    const pgHist = `select date_bin('12 hours', created_at, '${start30}') b, count(*) from events e
      where org_id = '${org30}' and created_at >= '${start30}' ${departedSql(org30, {})} group by b`;
    rows.push({
      name: 'histogram, 30 days',
      product: await timeRuns(runs, async () => {
        await api(org30, '/api/v1/audit-logs/histogram', { startDate: start30 });
        return 1;
      }),
      raw: await timeRuns(runs, async () => {
        await histogram(store, { ...parseListQuery({ startDate: start30 }).filters }, { orgId: org30 });
        return 1;
      }),
      pg: await pgTime(pgHist),
    });
    rows.push({
      name: 'facets (all time)',
      product: await timeRuns(runs, async () => {
        await api(org30, '/api/v1/audit-logs/facets', {});
        return 1;
      }),
      raw: await timeRuns(runs, async () => {
        await facets(store, { orgId: org30 });
        return 1;
      }),
      pg: await pgTime(
        `select action, count(*) from events where org_id = '${org30}' group by 1 union all
         select resource_type, count(*) from events where org_id = '${org30}' group by 1`,
      ),
    });
    // Page 1,000 of a cursor walk (limit 50) against page 1.
    let cursor: string | undefined;
    let last: { id: string; createdAt: string } | undefined;
    const walk = new Progress('cursor walk', 999);
    for (let p = 1; p < 1000; p++) {
      const body = (await api(big.orgId, '/api/v1/audit-logs', {
        limit: '50',
        ...(cursor ? { cursor } : {}),
      })) as { data: { id: string; createdAt: string }[]; nextCursor?: string };
      cursor = body.nextCursor;
      last = body.data[body.data.length - 1];
      walk.tick(1);
    }
    walk.finish();
    const key: [number, string] = [Date.parse(last!.createdAt), last!.id];
    const c1000: Cls = { name: 'page 1,000 (limit 50)', org: big.orgId, q: {}, where: '' };
    rows.push({
      name: 'page 1,000 of a cursor walk',
      product: await timeRuns(
        runs,
        async () =>
          (await api(big.orgId, '/api/v1/audit-logs', { limit: '50', cursor: cursor! })).data!.length,
      ),
      raw: await timeRuns(runs, () => raw(big.orgId, {}, key)),
      pg: await pgTime(pageSql(c1000, '', `and (created_at, id) < ('${last!.createdAt}', '${last!.id}')`)),
    });
    clearInterval(sampler);
    session.close();

    // The query table first: it stands even if the write phase below fails.
    const fmt = (t?: Timing) => (t ? `${t.p50} / ${t.p99}` : '—');
    const ratio = (a: Timing, b?: Timing) => (b ? `${(b.p50 / a.p50).toFixed(1)}×` : '—');
    console.log(
      `\n${formatTable(
        ['query (p50 / p99 ms)', 'product', 'raw DSL', 'PostgreSQL', 'pg_trgm', 'PG/product', 'trgm/product'],
        rows.map((r) => [
          r.name,
          fmt(r.product),
          fmt(r.raw),
          fmt(r.pg),
          fmt(r.trgm),
          ratio(r.product, r.pg),
          ratio(r.product, r.trgm),
        ]),
      )}`,
    );
    const rssMax = Math.round(Math.max(...rss));
    const rssP50 = Math.round(pct(rss, 0.5));
    console.log(`service RSS under the query load: p50 ${rssP50} MB, max ${rssMax} MB`);

    // --- writes: the ingest path vs raw _bulk of the same documents into an identically mapped index ---
    const writes = await (async () => {
      const writeOrg = `qw_${crypto.randomBytes(4).toString('hex')}`;
      await seed(ctx, { orgId: writeOrg, events: 0, days: 1, seed: 'w', workspaces: 4, members: 50 });
      const win = seedWindow(2, new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000));
      const world = buildWorld({ orgId: writeOrg, seed: 'w', workspaces: 4, members: 50, ...win });
      const batches: unknown[][] = [];
      let batch: unknown[] = [];
      for (const e of generateEvents({ world, seed: 'w', events: writeEvents, ...win })) {
        batch.push(e);
        if (batch.length === 1000) (batches.push(batch), (batch = []));
      }
      if (batch.length) batches.push(batch);
      const parallel = async (n: number, fn: (b: unknown[]) => Promise<void>) => {
        let next = 0;
        const t = performance.now();
        await Promise.all(
          Array.from({ length: n }, async () => {
            while (next < batches.length) await fn(batches[next++]!);
          }),
        );
        return (performance.now() - t) / 1000;
      };
      const ingestSecs = await parallel(8, async (b) => {
        const r = await withRetry(() => ingestEvents(ctx, { boundOrgId: writeOrg }, b));
        if (r.some((x) => x.status !== 'created')) throw new Error('write phase: an event was not created');
      });
      await store.indices.refresh({ index: AUDIT_INDEX_PATTERN });
      const docs: StoredEvent[] = [];
      let sres = await store.search({
        index: indicesForRange(new Date(win.from), new Date(win.to)),
        scroll: '1m',
        size: 5000,
        body: { query: { term: { orgId: writeOrg } }, sort: ['_doc'] },
      } as never);
      while ((sres.body.hits.hits as unknown[]).length) {
        docs.push(...(sres.body.hits.hits as unknown as { _source: StoredEvent }[]).map((h) => h._source));
        sres = await store.scroll({ body: { scroll_id: sres.body._scroll_id!, scroll: '1m' } } as never);
      }
      const tpl = (await store.indices.getIndexTemplate({ name: TEMPLATE_NAME })).body.index_templates[0]!
        .index_template.template as { settings?: unknown; mappings?: unknown };
      const rawIndex = `bench-raw-bulk-${writeOrg}`;
      await store.indices.create({
        index: rawIndex,
        body: { settings: tpl.settings, mappings: tpl.mappings },
      } as never);
      batches.length = 0;
      for (let i = 0; i < docs.length; i += 1000) batches.push(docs.slice(i, i + 1000));
      const bulkSecs = await parallel(8, async (b) => {
        const body = (b as StoredEvent[]).flatMap((d) => [
          { create: { _index: rawIndex, _id: eventDocId(d.orgId, d.id) } },
          d,
        ]);
        const r = await withRetry(() => store.bulk({ body } as never));
        if ((r.body as { errors: boolean }).errors) throw new Error('raw _bulk reported errors');
      });
      await store.indices.delete({ index: rawIndex });
      const ingestRate = Math.round(docs.length / ingestSecs);
      const bulkRate = Math.round(docs.length / bulkSecs);
      details.writes = { events: docs.length, ingestSecs, bulkSecs };
      return { ingestRate, bulkRate };
    })().catch((err: unknown) => {
      // Reported, not fatal: the query table above stands on its own.
      console.error(`write phase failed: ${(err as Error).message}`);
      details.writesError = (err as Error).message;
      return undefined;
    });

    if (writes)
      console.log(
        `writes: ingest path ${writes.ingestRate}/s (sealing on), raw _bulk ${writes.bulkRate}/s, ` +
          `ratio ${(writes.ingestRate / writes.bulkRate).toFixed(2)}`,
      );
    details.rows = rows;
    details.rss = { p50: rssP50, max: rssMax };
    writeBenchResult(
      'query',
      { events: total, days, runs },
      {
        'first page p50': { value: rows[0]!.product.p50, unit: 'ms', better: 'lower' },
        'rare word search p50': { value: rows[5]!.product.p50, unit: 'ms', better: 'lower' },
        'service RSS max': { value: rssMax, unit: 'MB', better: 'lower' },
        ...(writes
          ? {
              'ingest events/s (fresh org)': { value: writes.ingestRate, unit: 'events/s', better: 'higher' },
              'ingest / raw bulk': {
                value: Number(((writes.ingestRate / writes.bulkRate) * 100).toFixed(1)),
                unit: '%',
                better: 'higher',
              },
            }
          : {}),
      },
      details,
    );
  } finally {
    service.kill('SIGTERM');
    await pg.stop();
    await close();
  }
});
