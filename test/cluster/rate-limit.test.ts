/**
 * Several service instances behind round-robin: with REDIS_URL the per-key limit holds across them (one count
 * in Redis); without it each instance counts alone, so the same traffic passes.
 */
import { expect } from 'chai';
import { startService, type RunningService } from '../../src/server.ts';
import { testConfig } from '../helpers.ts';
import { orgWithKeys, startRedis, type Redis } from '../fixtures/cluster.ts';

const LIMIT = 600;
const REQUESTS = 700;

/**
 * `REQUESTS` requests with one key, spread round-robin over the instances, 10 at a time. The limiter runs
 * before routing, so a path no router answers (404) counts like any other and keeps the burst well inside
 * one minute without loading the engine.
 */
async function burst(urls: string[], key: string): Promise<{ status: number; remaining: number }[]> {
  const out: { status: number; remaining: number }[] = [];
  let next = 0;
  const worker = async () => {
    while (next < REQUESTS) {
      const i = next++;
      const res = await fetch(`${urls[i % urls.length]}/api/v1/rate-limit-probe`, {
        headers: { authorization: `Bearer ${key}` },
      });
      await res.arrayBuffer();
      out.push({ status: res.status, remaining: Number(res.headers.get('x-ratelimit-remaining')) });
    }
  };
  await Promise.all(Array.from({ length: 10 }, worker));
  return out;
}

async function instances(env: Record<string, string>): Promise<RunningService[]> {
  const all: RunningService[] = [];
  for (let i = 0; i < 3; i++) {
    // Sealing off: three sealers would only compete for the lease and add load to this test.
    all.push(await startService(testConfig({ AUDIT_SEALING: 'false', ...env })));
  }
  return all;
}

describe('rate limits across three service instances', function () {
  this.timeout(180_000);
  let redis: Redis;
  before(async () => {
    redis = await startRedis();
  });
  after(() => redis?.stop());

  const env = { AUDIT_LOGS_ENABLED: 'true', AUDIT_RATE_LIMIT_PER_MINUTE: String(LIMIT) };

  it('holds one key to its limit across instances sharing REDIS_URL', async () => {
    const services = await instances({ ...env, REDIS_URL: redis.url });
    try {
      const { read } = await orgWithKeys({ cfg: testConfig(env), store: services[0]!.store });
      const results = await burst(
        services.map((s) => s.url),
        read,
      );
      const limited = results.filter((r) => r.status === 429).length;
      const ok = results.filter((r) => r.status === 404);
      console.log(`      shared limit: ${ok.length} answered, ${limited} limited (429) of ${REQUESTS}`);
      expect(limited).to.equal(REQUESTS - LIMIT);
      expect(ok).to.have.length(LIMIT);
      // One count: every answered request saw a different remaining value, 599 down to 0.
      expect(new Set(ok.map((r) => r.remaining)).size).to.equal(LIMIT);
      expect(Math.min(...ok.map((r) => r.remaining))).to.equal(0);
      expect(Math.max(...ok.map((r) => r.remaining))).to.equal(LIMIT - 1);
    } finally {
      await Promise.all(services.map((s) => s.close()));
    }
  });

  it('counts per instance without REDIS_URL (the documented limit)', async () => {
    const services = await instances(env);
    try {
      const { read } = await orgWithKeys({ cfg: testConfig(env), store: services[0]!.store });
      const results = await burst(
        services.map((s) => s.url),
        read,
      );
      expect(results.filter((r) => r.status === 429)).to.have.length(0);
    } finally {
      await Promise.all(services.map((s) => s.close()));
    }
  });

  it('stops at start-up naming REDIS_URL when Redis does not answer', async () => {
    const err = await startService(testConfig({ ...env, REDIS_URL: 'redis://127.0.0.1:9' })).catch(
      (e: Error) => e,
    );
    expect(err).to.be.instanceOf(Error);
    expect((err as Error).message).to.match(
      /^cannot reach Redis at redis:\/\/127\.0\.0\.1:9: .*check REDIS_URL$/,
    );
  });
});
