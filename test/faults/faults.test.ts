/**
 * `npm run test:faults`: ordinary faults against real processes — the engine killed and stalled, the service
 * killed, overload — while producers ingest with known ids and retry until acknowledged. Each scenario ends
 * with: every acknowledged id stored once, `npm run verify` exit 0 with nothing sealed twice, and a full walk
 * of the SIEM stream delivering every id exactly once.
 */
import { expect } from 'chai';
import { check, Engine, newOrg, produce, record, Service, sleep, type Outcome } from './harness.ts';

/** RSS the service must stay under whatever the load (issue: bound the work in flight). */
const RSS_LIMIT_MB = 250;

function expectClean(o: Outcome): void {
  expect(o.verifyProblems, 'verify problems').to.deep.equal([]);
  expect(o.verifyExit, 'npm run verify exit status').to.equal(0);
  expect(o.sealedTwice).to.equal(0);
  expect(o.storedTwice, 'events stored twice').to.equal(0);
  expect(o.stored, 'events stored').to.equal(o.acknowledged);
  expect(o.notDelivered, 'acknowledged ids the stream never delivered').to.equal(0);
  expect(o.deliveredTwice, 'ids the stream delivered twice').to.equal(0);
  expect(o.delivered).to.equal(o.acknowledged);
}

describe('faults', function () {
  this.timeout(600_000);
  const engine = new Engine();
  let svc: Service;

  before(async () => {
    await engine.start();
    svc = new Service(() => engine.url);
    await svc.start();
  });
  after(async () => {
    await svc?.stop();
    await engine.destroy();
  });

  /**
   * Runs producers through `fault` (which starts with the ingest already under way) and for `afterMs` once it is
   * over; returns what they saw.
   */
  async function ingestThrough(
    ingestKey: string,
    fault: () => Promise<void>,
    afterMs: number,
    load = { producers: 4, size: 500 },
  ) {
    let running = true;
    const stats = produce(svc, ingestKey, {
      ...load,
      running: () => running,
      giveUpAt: Date.now() + 420_000,
    });
    await fault();
    await sleep(afterMs);
    running = false;
    return stats;
  }

  it('engine killed (SIGKILL) mid-ingest and restarted: nothing lost, sealed or delivered twice', async () => {
    const org = await newOrg(svc);
    const stats = await ingestThrough(
      org.ingestKey,
      async () => {
        await sleep(5000);
        engine.kill();
        await sleep(2000);
        await engine.start();
      },
      10_000,
    );
    const o = await check(svc, engine.url, org, stats.acknowledged);
    record('engine SIGKILL', { ...o, retries: stats.retries, peakRssMb: Math.round(svc.peakRssMb) });
    expect(stats.rejected).to.deep.equal([]);
    expect(stats.firstAttemptDuplicates).to.equal(0);
    expect(stats.retries).to.be.greaterThan(0);
    expectClean(o);
  });

  it('service killed (SIGKILL) mid-ingest and restarted: nothing lost, sealed or delivered twice', async () => {
    const org = await newOrg(svc);
    const stats = await ingestThrough(
      org.ingestKey,
      async () => {
        await sleep(5000);
        await svc.stop('SIGKILL');
        await sleep(500);
        await svc.start();
      },
      10_000,
    );
    const o = await check(svc, engine.url, org, stats.acknowledged);
    record('service SIGKILL', { ...o, retries: stats.retries, peakRssMb: Math.round(svc.peakRssMb) });
    expect(stats.rejected).to.deep.equal([]);
    expect(stats.firstAttemptDuplicates).to.equal(0);
    expect(stats.retries).to.be.greaterThan(0);
    expectClean(o);
  });

  it('engine stalled (SIGSTOP) for 20 s: answers within the deadline, then nothing lost or twice', async () => {
    const org = await newOrg(svc);
    const stats = await ingestThrough(
      org.ingestKey,
      async () => {
        await sleep(5000);
        engine.pause();
        await sleep(20_000);
        engine.resume();
      },
      10_000,
    );
    const o = await check(svc, engine.url, org, stats.acknowledged);
    record('engine SIGSTOP 20 s', {
      ...o,
      retries: stats.retries,
      slowestAnswerMs: stats.slowestAnswerMs,
      peakRssMb: Math.round(svc.peakRssMb),
    });
    expect(stats.rejected).to.deep.equal([]);
    expect(stats.firstAttemptDuplicates).to.equal(0);
    expect(stats.statuses.get(503) ?? 0, '503 answers during the stall').to.be.greaterThan(0);
    // AUDIT_REQUEST_TIMEOUT_SECONDS (10 s) and a little for the answer itself.
    expect(stats.slowestAnswerMs, 'slowest answer (ms)').to.be.below(12_000);
    expectClean(o);
  });

  it('overload (24 producers of 1,000-event batches): 503 + Retry-After, RSS bounded, nothing lost', async () => {
    const org = await newOrg(svc);
    svc.peakRssMb = 0;
    const stats = await ingestThrough(org.ingestKey, async () => undefined, 20_000, {
      producers: 24,
      size: 1000,
    });
    const ingestPeakRssMb = Math.round(svc.peakRssMb);
    const o = await check(svc, engine.url, org, stats.acknowledged);
    record('overload 24 x 1000', {
      ...o,
      retries: stats.retries,
      busy: stats.statuses.get(503) ?? 0,
      ingestPeakRssMb,
      peakRssMb: Math.round(svc.peakRssMb),
    });
    expect(stats.rejected).to.deep.equal([]);
    expect(stats.firstAttemptDuplicates).to.equal(0);
    expect(stats.statuses.get(503) ?? 0, '503 answers under overload').to.be.greaterThan(0);
    expect(svc.peakRssMb, 'peak RSS (MB)').to.be.below(RSS_LIMIT_MB);
    expectClean(o);
  });
});
