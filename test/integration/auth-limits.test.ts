/**
 * Made-up API keys stay cheap: a key id OpenSearch does not have is looked up once a minute at most, and an
 * address with too many failed authentications gets 429 before any lookup — while a key that works keeps
 * working from there.
 */
import { expect } from 'chai';
import crypto from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { buildApp } from '../../src/app.ts';
import type { HttpContext } from '../../src/http/http-context.ts';
import { AuthGuard } from '../../src/http/auth-guard.ts';
import { seedOrg, testConfig, testStore } from '../helpers.ts';

const TOKEN = 'auth-limits-operator-token';
const madeUpKey = () =>
  `alk_${crypto.randomBytes(8).toString('hex')}_${crypto.randomBytes(32).toString('base64url')}`;

describe('authentication limits', function () {
  this.timeout(120_000);
  const store = testStore();
  const servers: Server[] = [];

  /** A service of its own (its own guard, limit 30 failures a minute), so no other test shares its counts. */
  async function service(): Promise<{ url: string; guard: AuthGuard; ctx: HttpContext }> {
    const cfg = testConfig({
      AUDIT_ADMIN_TOKEN: TOKEN,
      AUDIT_LOGS_ENABLED: 'true',
      AUDIT_AUTH_FAILURES_PER_MINUTE: '30',
    });
    const guard = new AuthGuard(cfg.authFailuresPerMinute);
    const ctx: HttpContext = { cfg, store, authGuard: guard };
    const server = buildApp(ctx).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    servers.push(server);
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, guard, ctx };
  }

  const read = (url: string, key: string) =>
    fetch(`${url}/api/v1/audit-logs?limit=1`, { headers: { Authorization: `Bearer ${key}` } });

  async function ingestKey(url: string, orgId: string): Promise<string> {
    const res = await fetch(`${url}/api/v1/admin/ingest-keys`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ orgId }),
    });
    expect(res.status).to.equal(201);
    return ((await res.json()) as { key: string }).key;
  }

  const post = (url: string, key: string) =>
    fetch(`${url}/api/v1/audit-logs`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ action: 'workflow.created', resourceType: 'workflow' }),
    });

  after(async () => {
    for (const s of servers) s.close();
    await store.close();
  });

  it('answers 429 with Retry-After after 30 made-up keys from one address, without looking the rest up', async () => {
    const { url, guard, ctx } = await service();
    // A key that worked from this address before the spraying started.
    const orgId = await seedOrg(ctx);
    const known = await ingestKey(url, orgId);
    expect((await post(url, known)).status).to.equal(201);
    const before = guard.lookups;

    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 100; i++) {
      last = await read(url, madeUpKey());
      statuses.push(last.status);
      if (last.status === 429 && i < 99) await last.body?.cancel();
    }
    expect(statuses.slice(0, 30)).to.deep.equal(Array(30).fill(401));
    expect(statuses.slice(30)).to.deep.equal(Array(70).fill(429));
    const retryAfter = Number(last!.headers.get('retry-after'));
    expect(retryAfter).to.be.within(1, 60);
    expect(await last!.json()).to.deep.include({ code: 'rate_limited' });
    // Only the 30 failures reached OpenSearch; the 70 refused ones were never looked up.
    expect(guard.lookups - before).to.equal(30);

    // The limit is on failures: a key that authenticated lately still works from the blocked address (telling
    // an unseen real key from a made-up one would cost the lookup the limit saves, so an unseen key waits).
    expect((await post(url, known)).status).to.equal(201);
    const unseen = await ingestKey(url, orgId);
    const waited = await post(url, unseen);
    expect(waited.status).to.equal(429);
    expect(waited.headers.get('retry-after')).to.match(/^\d+$/);
  });

  it('looks an unknown key id up once, and finds a key created with that id right after', async () => {
    const { url, guard, ctx } = await service();
    const id = crypto.randomBytes(8).toString('hex');
    const tried = `alk_${id}_${crypto.randomBytes(32).toString('base64url')}`;
    const before = guard.lookups;
    for (let i = 0; i < 10; i++) expect((await read(url, tried)).status).to.equal(401);
    expect(guard.lookups - before).to.equal(1);

    // The next key the operator API creates gets exactly that id (ids are random, so this is the only way to
    // have a miss on an id that then comes to exist); creating it in this process must clear the cached miss.
    const orgId = await seedOrg(ctx);
    const randomBytes = crypto.randomBytes;
    let taken = false;
    (crypto as { randomBytes: unknown }).randomBytes = (size: number) => {
      if (size !== 8 || taken) return randomBytes(size);
      taken = true;
      return Buffer.from(id, 'hex');
    };
    let created: string;
    try {
      created = await ingestKey(url, orgId);
    } finally {
      crypto.randomBytes = randomBytes;
    }
    expect(created.startsWith(`alk_${id}_`)).to.equal(true);
    expect((await post(url, created)).status).to.equal(201);
  });
});
