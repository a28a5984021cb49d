/**
 * `npm start`: production stays explicit, SIGTERM under load is graceful (the real process, spawned), and the
 * local first run enables the page and operator API, seeds a demo org and refuses an engine it did not start.
 */
import { expect } from 'chai';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, PROJECT_ROOT } from '../../src/config.ts';
import { startService } from '../../src/server.ts';
import { ADMIN_TOKEN_FILE, checkOwnEngine, localSetup, seedDemo } from '../../scripts/lib/first-run.ts';
import { serviceNodeArgs } from '../../scripts/service-args.ts';
import { PAGE_PATH } from '../../src/ui/ui-routes.ts';
import {
  opensearchUrl,
  seedIngestKey,
  seedOrg,
  testConfig,
  testStore,
  TEST_SIGNING_KEY_PEM,
  uniqueId,
} from '../helpers.ts';

interface Started {
  child: ChildProcessWithoutNullStreams;
  url: string;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; at: number }>;
}

async function startScript(env: Record<string, string>): Promise<Started> {
  // As `npm start` runs it (the bundle): node itself gets the signal (the tsx CLI would relay it, and SIGKILL
  // a child that is too busy to acknowledge it within 60 ms).
  const child = spawn(process.execPath, serviceNodeArgs(), {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
    child.on('exit', (code) => resolve({ code, at: Date.now() })),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const m = /listening on (http:\/\/\S+)/.exec(err);
      if (m) {
        clearInterval(timer);
        resolve(m[1]!.replace('localhost', '127.0.0.1'));
      }
    }, 50);
    void exited.then(({ code }) => {
      clearInterval(timer);
      reject(new Error(`npm start exited with ${code}: ${err}`));
    });
  });
  return { child, url, stdout: () => out, stderr: () => err, exited };
}

/** A POST whose body is sent in two halves, `gapMs` apart: in flight for that long, whatever happens meanwhile. */
function slowPost(url: string, key: string, body: string, gapMs: number, onHalf: () => void) {
  return new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = http.request(`${url}/api/v1/audit-logs`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${key}`,
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
      },
    });
    req.on('response', (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    const half = Math.floor(body.length / 2);
    req.write(body.slice(0, half), () => {
      onHalf();
      setTimeout(() => req.end(body.slice(half)), gapMs);
    });
  });
}

describe('npm start', function () {
  this.timeout(120_000);
  const store = testStore();
  after(() => store.close());

  describe('with OPENSEARCH_URL (production)', () => {
    let svc: Started | undefined;
    let key: string;
    let orgId: string;
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-start-'));

    before(async () => {
      const ctx = { cfg: testConfig(), store };
      orgId = await seedOrg(ctx);
      key = await seedIngestKey(ctx, orgId);
      svc = await startScript({
        OPENSEARCH_URL: opensearchUrl(),
        PORT: '0',
        AUDIT_STATE_DIR: stateDir,
        AUDIT_SIGNING_KEY: TEST_SIGNING_KEY_PEM,
        AUDIT_LIFECYCLE_SWEEP_SECONDS: '0',
        AUDIT_SEAL_INTERVAL_SECONDS: '2',
        // Room for every request the shutdown test keeps in flight (3 slow + 8), none refused as busy.
        AUDIT_INGEST_CONCURRENCY: '16',
        LOG_LEVEL: 'info',
      });
    });
    after(() => svc?.child.kill('SIGKILL'));

    it('enables nothing that was not asked for', async () => {
      const metrics = await fetch(`${svc!.url}/metrics`);
      expect(metrics.status).to.equal(404);
      expect(((await metrics.json()) as { code: string }).code).to.equal('operator_api_disabled');
      expect((await fetch(`${svc!.url}${PAGE_PATH}`)).status).to.equal(404);
      expect(svc!.stderr()).not.to.contain('Admin page');
      expect(fs.existsSync(path.join(stateDir, ADMIN_TOKEN_FILE))).to.equal(false);
    });

    async function waitFor(cond: () => boolean, what: string, ms = 20_000) {
      const until = Date.now() + ms;
      while (!cond()) {
        if (Date.now() > until)
          throw new Error(`timed out waiting for ${what}:\n${svc!.stderr()}\n${svc!.stdout()}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    }

    it('on SIGTERM finishes the requests in flight, takes no new ones and exits 0 within 10 s', async () => {
      const { url } = svc!;
      const event = (i: number) => ({
        id: uniqueId(`evt${i}`),
        action: 'workflow.updated',
        resourceType: 'workflow',
      });
      const batch = () => JSON.stringify({ events: Array.from({ length: 50 }, (_, i) => event(i)) });
      // Slow requests: half their body is sent, the rest comes after the signal.
      let halves = 0;
      const slow = Array.from({ length: 3 }, () => slowPost(url, key, batch(), 1500, () => halves++));
      await waitFor(() => halves === slow.length, 'the slow requests to be half sent');
      // Many requests at once, each on its own connection, all sent before the signal.
      let sent = 0;
      const many = Array.from({ length: 8 }, () => slowPost(url, key, batch(), 0, () => sent++));
      await waitFor(() => sent === many.length, 'the requests to be sent');
      await new Promise((r) => setTimeout(r, 200));
      const signalled = Date.now();
      svc!.child.kill('SIGTERM');
      // Once it says it is stopping, its listening socket is closed: a new connection is refused.
      await waitFor(() => svc!.stdout().includes('"stopping'), 'the service to say it is stopping');
      const late = await fetch(`${url}/healthz`).then(
        (r) => r.status,
        (e: Error) => (e.cause as { code?: string })?.code ?? e.message,
      );
      const answers = await Promise.all(
        [...slow, ...many].map((p) => p.catch((e: Error) => ({ status: 0, text: e.message }))),
      );
      const { code, at } = await svc!.exited;
      const log = `${svc!.stderr()}\n${svc!.stdout().split('\n').slice(-30).join('\n')}`;
      for (const a of answers) {
        expect(a.status, `${a.text}\n${log}`).to.equal(201);
        const body = JSON.parse(a.text) as { results: { status: string }[] };
        expect(body.results).to.have.length(50);
      }
      // Refused; or reset when fetch reused a kept-alive connection the stopping service closes as idle.
      expect(late).to.be.oneOf(['ECONNREFUSED', 'ECONNRESET']);
      expect(code, log).to.equal(0);
      expect(at - signalled).to.be.lessThan(10_000);
      const lines = svc!
        .stdout()
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { msg: string; signal?: string });
      expect(lines.map((l) => l.msg)).to.include.members([
        'stopping: no new requests; finishing those in flight and the sealer round',
        'stopped',
      ]);
      svc = undefined;
    });
  });

  describe('on the embedded engine (local first run)', () => {
    it('turns on the page and the operator API with a token kept in the state folder', () => {
      const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-first-'));
      const cfg = testConfig({ AUDIT_STATE_DIR: stateDir });
      expect(cfg).to.include({ pageEnabled: false, auditLogsEnabled: false, adminToken: undefined });
      const local = localSetup(cfg, { demo: false });
      expect(local).to.include({
        pageEnabled: true,
        auditLogsEnabled: true,
        sealAfterDays: cfg.sealAfterDays,
      });
      expect(local.adminToken).to.match(/^[0-9a-f]{64}$/);
      const file = path.join(stateDir, ADMIN_TOKEN_FILE);
      expect(fs.readFileSync(file, 'utf8')).to.equal(local.adminToken);
      expect(fs.statSync(file).mode & 0o777).to.equal(0o600);
      expect(localSetup(cfg, { demo: true }).adminToken).to.equal(local.adminToken);
      expect(localSetup(cfg, { demo: true }).sealAfterDays).to.be.greaterThan(7);
    });

    it('listens on 127.0.0.1 only, and on every interface when HOST says so', async () => {
      const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-host-'));
      // As scripts/start.ts does: the configuration of an environment without OPENSEARCH_URL, then the engine's URL.
      const local = (env: Record<string, string>) => ({
        ...localSetup(
          loadConfig({
            PORT: '0',
            AUDIT_STATE_DIR: stateDir,
            AUDIT_SIGNING_KEY: TEST_SIGNING_KEY_PEM,
            AUDIT_LIFECYCLE_SWEEP_SECONDS: '0',
            LOG_LEVEL: 'silent',
            ...env,
          }),
          { demo: false },
        ),
        opensearchUrl: opensearchUrl(),
      });
      // 127.0.0.2 is loopback too, but not the address 127.0.0.1: only a server on every interface answers it.
      const status = (url: string, host: string) =>
        fetch(`${url.replace('127.0.0.1', host)}/healthz`).then(
          (r) => r.status,
          (e: Error) => (e.cause as { code?: string })?.code ?? e.message,
        );
      for (const [env, elsewhere] of [
        [{}, 'ECONNREFUSED'],
        [{ HOST: '0.0.0.0' }, 200],
      ] as const) {
        const svc = await startService(local(env));
        try {
          expect(await status(svc.url, '127.0.0.1')).to.equal(200);
          expect(await status(svc.url, '127.0.0.2'), JSON.stringify(env)).to.equal(elsewhere);
        } finally {
          await svc.close(100);
        }
      }
    });

    it('--demo seeds an org with a week of events once and gives a key that reads them', async () => {
      const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-demo-'));
      const cfg = localSetup(testConfig({ AUDIT_STATE_DIR: stateDir }), { demo: true });
      const ctx = { cfg, store };
      const orgId = uniqueId('demo');
      const said: string[] = [];
      const demo = await seedDemo(ctx, (l) => said.push(l), { orgId, events: 400 });
      expect(demo.seeded?.created).to.equal(400);
      expect(said.join()).to.contain('Seeding');
      await store.indices.refresh({ index: 'audit-logs-*' });
      const { buildApp } = await import('../../src/app.ts');
      const server = buildApp(ctx).listen(0);
      try {
        const port = (server.address() as { port: number }).port;
        const res = await fetch(`http://127.0.0.1:${port}/api/v1/audit-logs/histogram`, {
          headers: { authorization: `Bearer ${demo.key}` },
        });
        expect(res.status).to.equal(200);
        const h = (await res.json()) as { total: number; buckets: { start: string; count: number }[] };
        expect(h.total).to.be.greaterThan(100);
        const days = new Set(h.buckets.filter((b) => b.count > 0).map((b) => b.start.slice(0, 10)));
        expect(days.size).to.be.greaterThan(3);
        // The first screen is the org's recent activity; its setup is dated at the start of the seeded week.
        const read = async (q: string) => {
          const r = await fetch(`http://127.0.0.1:${port}/api/v1/audit-logs?${q}`, {
            headers: { authorization: `Bearer ${demo.key}` },
          });
          expect(r.status).to.equal(200);
          return ((await r.json()) as { data: { action: string; actorName?: string; createdAt: string }[] })
            .data;
        };
        // The setup is the operator's (generated activity may create workspaces too, by people).
        const setup = ['organization.created', 'workspace.created', 'org_member.added'];
        const first = await read('limit=50');
        expect(first.filter((e) => e.actorName === 'Operator' && setup.includes(e.action))).to.deep.equal([]);
        // The generated activity may hold an organization.created of its own, by a person: the setup's is the operator's.
        const created = (await read('action=organization.created')).filter((e) => e.actorName === 'Operator');
        expect(created.map((e) => e.createdAt)).to.deep.equal([new Date(demo.seeded!.from).toISOString()]);
      } finally {
        server.close();
      }
      const again = await seedDemo(ctx, undefined, { orgId, events: 400 });
      expect(again.seeded).to.equal(undefined);
      expect(again.key).to.equal(demo.key);
    });

    it('refuses an engine answering on its port that is not the process it started', async () => {
      const url = opensearchUrl();
      const nodes = (await (await fetch(`${url}/_nodes/_local/process`)).json()) as {
        nodes: Record<string, { process: { id: number } }>;
      };
      const pid = Object.values(nodes.nodes)[0]!.process.id;
      await checkOwnEngine({ url, pid });
      let err: Error | undefined;
      await checkOwnEngine({ url, pid: pid + 1 }).catch((e: Error) => (err = e));
      expect(err?.message).to.contain(`is answered by another process (pid ${pid}, not ${pid + 1})`);
      expect(err?.message).to.contain('Is another `npm start` running?');
    });
  });
});
