/**
 * Operability: a request id on every answer and log line, one access line per request (route pattern, key id,
 * never the key), requestId in 5xx bodies, and the Prometheus metrics behind the operator token.
 */
import { expect } from 'chai';
import type { AddressInfo } from 'node:net';
import { buildApp } from '../../src/app.ts';
import { putMember } from '../../src/directory/members.ts';
import { ingestEvents } from '../../src/ingest/ingest.ts';
import { freePort } from '../../scripts/lib/engine/engine.ts';
import { memoryLogger } from '../../src/observe/log.ts';
import { Metrics } from '../../src/observe/metrics.ts';
import { startService, type RunningService } from '../../src/server.ts';
import { createStore } from '../../src/store/client.ts';
import { seedIngestKey, seedOrg, testConfig, uniqueId } from '../helpers.ts';

const TOKEN = 'observability-test-token';

/** Log lines are written when the response finishes, which may be just after the client has it. */
async function linesFor(lines: Record<string, unknown>[], reqId: string, min = 1) {
  for (let i = 0; i < 50; i++) {
    const mine = lines.filter((l) => l.reqId === reqId);
    if (mine.length >= min) return mine;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no log line with reqId ${reqId}`);
}

describe('observability: request ids, access logs, metrics', function () {
  this.timeout(60_000);
  let svc: RunningService;
  let lines: Record<string, unknown>[];
  let key: string;
  let orgId: string;

  before(async () => {
    const mem = memoryLogger('info');
    lines = mem.lines;
    svc = await startService(
      testConfig({ AUDIT_ADMIN_TOKEN: TOKEN, AUDIT_LOGS_ENABLED: 'true', AUDIT_RATE_LIMIT_PER_MINUTE: '20' }),
      { log: mem.log },
    );
    const ctx = { cfg: testConfig(), store: svc.store };
    orgId = await seedOrg(ctx);
    key = await seedIngestKey(ctx, orgId);
  });
  after(() => svc?.close());

  it('echoes a valid X-Request-Id, logs one access line with the route pattern and key id, never the key', async () => {
    const eventId = uniqueId('evt');
    const res = await fetch(`${svc.url}/api/v1/audit-logs`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${key}`,
        'content-type': 'application/json',
        'x-request-id': 'trace-0001',
      },
      body: JSON.stringify({ id: eventId, action: 'workflow.created', resourceType: 'workflow' }),
    });
    expect(res.status).to.equal(201);
    expect(res.headers.get('x-request-id')).to.equal('trace-0001');
    const [line, ...more] = await linesFor(lines, 'trace-0001');
    expect(more).to.deep.equal([]);
    expect(line).to.include({ method: 'POST', route: '/api/v1/audit-logs', status: 201, msg: 'request' });
    expect(line!.keyId).to.equal(key.split('_')[1]);
    expect(line!.ms).to.be.a('number');
    const all = JSON.stringify(lines);
    expect(all).not.to.include(key.split('_').slice(2).join('_')); // the key's secret
    expect(all).not.to.include(eventId); // neither a body nor a path value
  });

  it('labels routes by pattern, not by the ids in the path', async () => {
    const id = uniqueId('evt');
    const res = await fetch(`${svc.url}/api/v1/audit-logs/${id}`, {
      headers: { 'x-request-id': 'trace-0002' },
    });
    expect(res.status).to.equal(401);
    const [line] = await linesFor(lines, 'trace-0002');
    expect(line).to.include({ route: '/api/v1/audit-logs/:id', status: 401 });
  });

  it('labels requests only with registered route patterns, whatever the spelling of the path', async () => {
    const metrics = new Metrics();
    const cfg = testConfig({
      AUDIT_ADMIN_TOKEN: TOKEN,
      AUDIT_AUTH_FAILURES_PER_MINUTE: '100000',
      AUDIT_RATE_LIMIT_PER_MINUTE: '100000',
    });
    const server = buildApp({ cfg, store: svc.store, metrics }).listen(0);
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const routeLabels = async () =>
      new Set((await metrics.httpDuration.get()).values.map((v) => String(v.labels.route)));
    const paths = [
      '/api/v1/audit-logs',
      '/api/v1/audit-logs/stream',
      '/api/v1/audit-logs/histogram',
      '/api/v1/audit-logs/evt_1',
      '/api/v1/audit-logs/evt_1/proof',
      '/api/v1/audit-logs/integrity/public-key',
      '/api/v1/admin/orgs/acme',
      '/metrics',
      '/no/such/path',
    ];
    const mixedCase = (s: string) =>
      [...s].map((c) => (Math.random() < 0.5 ? c.toUpperCase() : c.toLowerCase())).join('');
    try {
      for (const p of paths) await fetch(base + p);
      const before = await routeLabels();
      expect([...before]).to.include.members([
        '/api/v1/audit-logs',
        '/api/v1/audit-logs/:id',
        '/api/v1/audit-logs/:id/proof',
        'unmatched',
      ]);
      for (let i = 0; i < 200; i++) {
        const res = await fetch(base + mixedCase(paths[i % paths.length]!));
        expect(res.status).to.be.oneOf([401, 404]);
      }
      expect([...(await routeLabels())]).to.have.members([...before]);
    } finally {
      server.close();
    }
  });

  it('counts the events of every ingest path, not only HTTP: seeding (the demo) and directory changes', async () => {
    const metrics = new Metrics();
    const ctx = { cfg: testConfig(), store: svc.store, metrics };
    const created = async () =>
      (await metrics.ingestEvents.get()).values.find((v) => v.labels.outcome === 'created')?.value ?? 0;
    const events = [1, 2, 3].map((i) => ({
      id: uniqueId(`seeded${i}`),
      action: 'workflow.created',
      resourceType: 'workflow',
    }));
    // What the seeder and `npm start -- --demo` call, in the service's process.
    await ingestEvents(ctx, { boundOrgId: orgId }, events);
    expect(await created()).to.equal(3);
    await ingestEvents(ctx, { boundOrgId: orgId }, events.slice(0, 1));
    const duplicate = (await metrics.ingestEvents.get()).values.find((v) => v.labels.outcome === 'duplicate');
    expect(duplicate?.value).to.equal(1);
    // A directory change records its own audit event through the same path.
    await putMember(ctx, orgId, uniqueId('usr'), { email: 'm@example.com', name: 'M', role: 'member' });
    expect(await created()).to.be.above(3);
  });

  it('replaces an unusable X-Request-Id with a generated one', async () => {
    for (const bad of ['x'.repeat(129), 'tab\there']) {
      const res = await fetch(`${svc.url}/healthz`, { headers: { 'x-request-id': bad } });
      const id = res.headers.get('x-request-id');
      expect(id).to.match(/^[0-9a-f-]{36}$/);
      await linesFor(lines, id!);
    }
  });

  it('puts the request id in 5xx bodies and the error log line', async () => {
    const dead = await freePort(0);
    const store = createStore(`http://127.0.0.1:${dead}`);
    const mem = memoryLogger('info');
    const server = buildApp({ cfg: testConfig(), store, log: mem.log, metrics: new Metrics() }).listen(0);
    try {
      const port = (server.address() as AddressInfo).port;
      const res = await fetch(`http://127.0.0.1:${port}/api/v1/audit-logs`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${key}`,
          'content-type': 'application/json',
          'x-request-id': 'r-503',
        },
        body: '{}',
      });
      expect(res.status).to.equal(503);
      expect(await res.json()).to.include({ code: 'storage_unavailable', requestId: 'r-503' });
      const mine = await linesFor(mem.lines, 'r-503', 2);
      expect(mine.find((l) => l.msg === 'request')).to.include({ level: 50, status: 503 });
    } finally {
      server.close();
      await store.close();
    }
  });

  it('serves Prometheus metrics to the operator token only', async () => {
    expect((await fetch(`${svc.url}/metrics`)).status).to.equal(401);
    // An OpenSearch error of the service's client is counted by kind.
    await svc.store
      .search({ index: 'audit-logs-*', body: { query: { no_such_query: {} } } as never })
      .catch(() => undefined);
    // Over the per-key limit: a refusal is counted.
    let refused = 0;
    for (let i = 0; i < 25 && refused === 0; i++) {
      const r = await fetch(`${svc.url}/api/v1/audit-logs?limit=1`, {
        headers: { authorization: 'Bearer alk_x' },
      });
      if (r.status === 429) refused++;
    }
    expect(refused).to.equal(1);
    // The sealer's first round (at start) can take a while on an engine that holds other tests' orgs.
    const sealerRounds = /audit_sealer_rounds_total\{result="(leader|follower)"\} [1-9]/;
    let res: Response;
    let text: string;
    for (let tries = 0; ; tries++) {
      res = await fetch(`${svc.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
      text = await res.text();
      if (sealerRounds.test(text) || tries === 60) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^text\/plain/);
    expect(text).to.match(
      /audit_http_request_duration_seconds_count\{method="POST",route="\/api\/v1\/audit-logs",status="201"\} 1/,
    );
    expect(text).to.match(/audit_ingest_events_total\{outcome="created"\} 1/);
    expect(text).to.match(/audit_rate_limited_requests_total 1/);
    expect(text).to.match(/audit_opensearch_errors_total\{kind="[a-z_]+"\} [1-9]/);
    expect(text).to.include('# TYPE audit_seals_written_total counter');
    expect(text).to.include('# TYPE audit_lifecycle_actions_total counter');
    expect(text).to.include('# TYPE audit_sealer_lag_seconds gauge');
    // The sealer ran its first round at start (as leader or follower).
    expect(text).to.match(sealerRounds);
  });
});
