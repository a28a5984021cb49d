/**
 * Push streams under faults, all real processes: the service (dist/start.mjs, one or two instances) delivers to
 * a real Standard Webhooks receiver while producers keep ingesting, and the receiver goes down for 5 minutes,
 * answers 500, answers 429 with Retry-After, takes 30 s to answer, or closes the connection mid-body; or the
 * delivering instance is SIGKILLed. Each case has its own org, stream and receiver, and ends with the same
 * check (`expectWholeStream`): every acknowledged event received, none missing, in stream order, and the only
 * duplicates re-sends of a batch that was in flight at a fault (same webhook-id, same entries).
 */
import { expect } from 'chai';
import crypto from 'node:crypto';
import {
  ADMIN_TOKEN,
  Engine,
  newOrg,
  produce,
  record,
  Service,
  sleep,
  type ProducerStats,
} from './harness.ts';
import { waitFor } from '../fixtures/streams.ts';
import { WebhookReceiver } from '../fixtures/webhook-receiver.ts';

const POLL_SECONDS = 0.5;
const LEASE_SECONDS = 3;
const MAX_BACKOFF_SECONDS = 4;
/** Shorter than the slow receiver's 30 s, longer than the lease (as the defaults are: 30 s and 15 s). */
const SEND_TIMEOUT_SECONDS = 5;
const OUTAGE_MS = 5 * 60_000;

type Org = Awaited<ReturnType<typeof newOrg>>;

describe('stream faults', function () {
  this.timeout(600_000);
  const engine = new Engine();
  const env = {
    AUDIT_STREAM_ALLOW_PRIVATE: 'true',
    AUDIT_STREAM_POLL_SECONDS: String(POLL_SECONDS),
    AUDIT_STREAM_LEASE_SECONDS: String(LEASE_SECONDS),
    AUDIT_STREAM_MAX_BACKOFF_SECONDS: String(MAX_BACKOFF_SECONDS),
    AUDIT_STREAM_SEND_TIMEOUT_SECONDS: String(SEND_TIMEOUT_SECONDS),
    // Instances share these (each Service has a state dir of its own).
    AUDIT_STREAM_KEY: crypto.randomBytes(32).toString('base64'),
    AUDIT_CURSOR_SECRET: crypto.randomBytes(32).toString('hex'),
  };
  const svc = new Service(() => engine.url, env);
  const receivers: WebhookReceiver[] = [];

  before(async () => {
    await engine.start();
    await svc.start();
  });
  after(async () => {
    await svc.stop();
    for (const r of receivers) await r.stop();
    await engine.destroy();
  });

  /** A new org with a webhook stream to a receiver of its own. */
  async function newStream(name: string) {
    const org = await newOrg(svc);
    const receiver = await new WebhookReceiver(`whsec_${crypto.randomBytes(24).toString('base64')}`).start();
    receivers.push(receiver);
    const res = await fetch(`${svc.url}/api/v1/audit-logs/streams`, {
      method: 'POST',
      headers: { authorization: `Bearer ${org.readKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        type: 'webhook',
        name,
        settings: { url: receiver.url, secret: receiver.secret },
      }),
    });
    expect(res.status).to.equal(201);
    const streamId = ((await res.json()) as { id: string }).id;
    return { org, receiver, streamId };
  }

  /** Producers on each instance, 4 batches of 50 events a second each, until `stop()`. */
  function ingesting(instances: Service[], org: Org) {
    let running = true;
    const all = instances.map((s) =>
      produce(s, org.ingestKey, {
        producers: 2,
        size: 50,
        pauseMs: 500,
        running: () => running,
        giveUpAt: Date.now() + 540_000,
      }),
    );
    return {
      async stop(): Promise<Set<string>> {
        running = false;
        const stats: ProducerStats[] = await Promise.all(all);
        return new Set(stats.flatMap((s) => [...s.acknowledged]));
      },
    };
  }

  async function streamState(via: Service, org: Org, streamId: string) {
    const res = await fetch(`${via.url}/api/v1/audit-logs/streams/${streamId}`, {
      headers: { authorization: `Bearer ${org.readKey}` },
    });
    return (await res.json()) as { status: string; lastError: string | null };
  }

  /** Pauses a stream whose case is over, so idle streams do not load the instances of the next cases. */
  async function pause(org: Org, streamId: string): Promise<void> {
    const res = await fetch(`${svc.url}/api/v1/audit-logs/streams/${streamId}/pause`, {
      method: 'POST',
      headers: { authorization: `Bearer ${org.readKey}` },
    });
    expect(res.status).to.equal(200);
  }

  /** The org's whole SIEM stream, in order, read through the API. */
  async function streamIds(via: Service, readKey: string): Promise<string[]> {
    const ids: string[] = [];
    let cursor = '';
    for (;;) {
      const res = await fetch(
        `${via.url}/api/v1/audit-logs/stream?limit=1000${cursor ? `&cursor=${cursor}` : ''}`,
        { headers: { authorization: `Bearer ${readKey}` } },
      );
      const page = (await res.json()) as { data: { id: string }[]; nextCursor: string; caughtUp: boolean };
      ids.push(...page.data.map((e) => e.id));
      cursor = encodeURIComponent(page.nextCursor);
      if (page.caughtUp) return ids;
    }
  }

  /** `audit_stream_delivered_total` of one stream on one instance (0 before its first delivery there). */
  async function deliveredBy(instance: Service, streamId: string): Promise<number> {
    const res = await fetch(`${instance.url}/metrics`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    const m = new RegExp(`^audit_stream_delivered_total\\{stream="${streamId}"\\} (\\d+)$`, 'm').exec(
      await res.text(),
    );
    return m ? Number(m[1]) : 0;
  }

  /**
   * The end of every case: each acknowledged event reached the receiver; counting each batch once (by
   * webhook-id) the receiver holds exactly the org's stream as the API reads it, in order; every signature
   * verified; and every batch received more than once is one of `inFlight` (the webhook-ids of the requests in
   * flight at a fault), each copy with the same entries. Returns the figures for the record.
   */
  async function expectWholeStream(
    name: string,
    receiver: WebhookReceiver,
    via: Service,
    org: Org,
    acknowledged: Set<string>,
    inFlight: string[],
  ) {
    await waitFor(
      'every acknowledged event at the receiver',
      () => {
        const got = new Set(receiver.allIds());
        return [...acknowledged].every((id) => got.has(id));
      },
      180_000,
    );
    const expected = await streamIds(via, org.readKey);
    await waitFor('the whole stream at the receiver', () => receiver.ids().length >= expected.length, 60_000);
    expect(receiver.ids()).to.deep.equal(expected);
    expect(receiver.rejected).to.deep.equal([]);

    const copies = new Map<string, string[][]>();
    for (const b of receiver.batches)
      copies.set(b.webhookId, [...(copies.get(b.webhookId) ?? []), b.entries.map((e) => e.id)]);
    const resent = [...copies].filter(([, c]) => c.length > 1);
    for (const [webhookId, c] of resent) {
      expect(inFlight, `batch ${webhookId} received ${c.length} times`).to.include(webhookId);
      for (const one of c) expect(one).to.deep.equal(c[0]);
    }
    const duplicates = receiver.allIds().length - new Set(receiver.allIds()).size;
    expect(duplicates).to.equal(resent.reduce((n, [, c]) => n + (c.length - 1) * c[0]!.length, 0));
    const figures = {
      acknowledged: acknowledged.size,
      streamed: expected.length,
      requests: receiver.attempts.length,
      resentBatches: resent.length,
      duplicates,
    };
    record(`stream: ${name}`, figures);
    return figures;
  }

  it('service SIGKILLed mid-delivery: every event received in order, duplicates only from the batch in flight', async () => {
    const { org, receiver, streamId } = await newStream('crash');
    const ingest = ingesting([svc], org);
    await waitFor('deliveries under way', () => receiver.batches.length >= 3, 60_000);
    // The next batch is held unanswered while the service is killed: it is in flight at the crash.
    const arrived = new Promise<void>((resolve) => {
      receiver.holdNext = () => {
        resolve();
        return 3000;
      };
    });
    await arrived;
    const held = receiver.attempts.at(-1)!.webhookId;
    await svc.stop('SIGKILL');
    await sleep(500);
    await svc.start();
    await sleep(5000);
    const acknowledged = await ingest.stop();
    await expectWholeStream('service SIGKILLed', receiver, svc, org, acknowledged, [held]);
    await pause(org, streamId);
  });

  it('receiver down 5 minutes while ingest goes on: the stream resumes where it stopped', async () => {
    const { org, receiver, streamId } = await newStream('outage');
    const ingest = ingesting([svc], org);
    await waitFor('deliveries under way', () => receiver.batches.length >= 3, 60_000);
    const before = receiver.ids();
    // A batch the receiver took just as it went down may not have been confirmed: it is in flight.
    const lastAttempt = receiver.attempts.at(-1)!;
    await receiver.stop();
    const downAt = Date.now();
    await sleep(OUTAGE_MS);
    // Retryable failures for over a minute: the stream shows `failing`, saying why.
    const down = await streamState(svc, org, streamId);
    expect(down.status).to.equal('failing');
    expect(down.lastError).to.match(/unreachable: ECONNREFUSED/);
    await receiver.start();
    const backAt = Date.now();
    const first = await waitFor('a delivery after the outage', () =>
      receiver.batches.find((b) => b.at > backAt),
    );
    // However long the outage, the pause between retries is bounded by AUDIT_STREAM_MAX_BACKOFF_SECONDS.
    expect(first.at - backAt, 'first delivery after the receiver came back (ms)').to.be.below(
      (MAX_BACKOFF_SECONDS + POLL_SECONDS + 3) * 1000,
    );
    await sleep(3000);
    const acknowledged = await ingest.stop();
    const figures = await expectWholeStream('receiver down 5 min', receiver, svc, org, acknowledged, [
      lastAttempt.webhookId,
    ]);
    // It resumed where it stopped: with the batch in flight at the outage, or with the entry after the last one
    // the receiver had.
    const firstIds = first.entries.map((e) => e.id);
    if (first.webhookId === lastAttempt.webhookId) expect(firstIds).to.deep.equal(lastAttempt.ids);
    else expect(receiver.ids().indexOf(firstIds[0]!), 'where it resumed').to.equal(before.length);
    expect(figures.streamed - before.length, 'entries streamed since the outage began').to.be.greaterThan(
      (OUTAGE_MS / 1000) * 10,
    );
    expect(await streamState(svc, org, streamId)).to.include({ status: 'active', lastError: null });
    console.log(
      `      down ${Math.round((backAt - downAt) / 1000)} s, resumed ${first.at - backAt} ms after`,
    );
    await pause(org, streamId);
  });

  it('receiver answering 500 for a while: the refused batches are retried, backed off, until accepted', async () => {
    const { org, receiver, streamId } = await newStream('errors');
    const ingest = ingesting([svc], org);
    await waitFor('deliveries under way', () => receiver.batches.length >= 3, 60_000);
    receiver.reply = () => ({ status: 500, body: 'internal error' });
    await sleep(15_000);
    receiver.reply = undefined;
    await sleep(3000);
    const acknowledged = await ingest.stop();
    await expectWholeStream('receiver answering 500', receiver, svc, org, acknowledged, []);

    const refused = receiver.attempts.filter((a) => a.status === 500);
    expect(refused.length, 'requests answered 500').to.be.at.least(4);
    // Every retry of a refused batch carries its webhook-id and entries, after a backoff of at least 0.5 s and
    // at most AUDIT_STREAM_MAX_BACKOFF_SECONDS (plus a poll).
    for (const r of refused) {
      const next = receiver.attempts.find((a) => a.at > r.at)!;
      expect(next.webhookId).to.equal(r.webhookId);
      expect(next.ids).to.deep.equal(r.ids);
      expect(next.at - r.at).to.be.within(500, (MAX_BACKOFF_SECONDS + POLL_SECONDS + 2) * 1000);
    }
    await pause(org, streamId);
  });

  it('receiver answering 429 with Retry-After: no retry before it elapsed', async () => {
    const { org, receiver, streamId } = await newStream('throttled');
    const ingest = ingesting([svc], org);
    await waitFor('deliveries under way', () => receiver.batches.length >= 3, 60_000);
    // Longer than the longest backoff, so only Retry-After can explain the wait.
    const retryAfter = MAX_BACKOFF_SECONDS + 2;
    let throttle = 3;
    receiver.reply = () =>
      throttle-- > 0 ? { status: 429, headers: { 'Retry-After': String(retryAfter) } } : undefined;
    await waitFor('three answers 429', () => throttle < 0, 60_000);
    await sleep(3000);
    const acknowledged = await ingest.stop();
    await expectWholeStream('receiver answering 429', receiver, svc, org, acknowledged, []);

    const throttled = receiver.attempts.filter((a) => a.status === 429);
    expect(throttled).to.have.length(3);
    for (const t of throttled) {
      const next = receiver.attempts.find((a) => a.at > t.at)!;
      expect(next.webhookId, 'the retry is the same batch').to.equal(t.webhookId);
      expect(next.at - t.at, 'wait before the retry (ms)').to.be.at.least(retryAfter * 1000);
    }
    await pause(org, streamId);
  });

  it('receiver closing the connection mid-body: the batch is sent again, duplicates only from a cut answer', async () => {
    const { org, receiver, streamId } = await newStream('hang-up');
    const ingest = ingesting([svc], org);
    await waitFor('deliveries under way', () => receiver.batches.length >= 3, 60_000);
    const from = receiver.attempts.length;
    // Two requests cut while their body arrives, then one taken but its answer cut halfway.
    receiver.hangUpOnBody = 2;
    let cut = true;
    receiver.reply = () =>
      cut ? ((cut = false), { status: 200, body: 'stored', cutAnswer: true }) : undefined;
    await waitFor('the cut answer', () => !cut, 60_000);
    // The cut batch is sent again after a backoff (up to the longest one, with jitter).
    await waitFor('the cut batch sent again', () => receiver.attempts.length >= from + 4, 60_000);
    const acknowledged = await ingest.stop();
    const [hungUp1, hungUp2, taken, retried] = receiver.attempts.slice(from);
    expect([hungUp1!.status, hungUp2!.status]).to.deep.equal([0, 0]);
    expect([hungUp2!.webhookId, taken!.webhookId, retried!.webhookId]).to.deep.equal(
      Array(3).fill(hungUp1!.webhookId),
    );
    expect(retried!.ids).to.deep.equal(taken!.ids);
    const figures = await expectWholeStream('receiver closing mid-body', receiver, svc, org, acknowledged, [
      taken!.webhookId,
    ]);
    expect(figures.resentBatches, 'the batch whose answer was cut, held twice').to.equal(1);
    await pause(org, streamId);
  });

  describe('with two instances', () => {
    const other = new Service(() => engine.url, env);
    before(() => other.start());
    after(() => other.stop());

    it('receiver taking 30 s to answer: the send is abandoned at the timeout and retried, never two at once', async () => {
      const { org, receiver, streamId } = await newStream('slow');
      const ingest = ingesting([svc], org);
      await waitFor('deliveries under way', () => receiver.batches.length >= 3, 60_000);
      const from = receiver.attempts.length;
      receiver.delayMs = 30_000;
      await waitFor('two slow requests', () => receiver.attempts.length >= from + 2, 60_000);
      receiver.delayMs = 0;
      await sleep(3000);
      const acknowledged = await ingest.stop();
      await expectWholeStream('receiver taking 30 s', receiver, svc, org, acknowledged, []);

      // A send outlasting the lease still keeps it: the other instance never sends the stream meanwhile.
      expect(receiver.maxInFlight, 'requests at once').to.equal(1);
      const [slow1, slow2, fast] = receiver.attempts.slice(from);
      for (const retry of [slow2!, fast!]) {
        expect(retry.webhookId, 'the retry is the same batch').to.equal(slow1!.webhookId);
        expect(retry.ids).to.deep.equal(slow1!.ids);
      }
      // Abandoned at AUDIT_STREAM_SEND_TIMEOUT_SECONDS, not sooner, and without waiting for the 30 s answer.
      expect(slow2!.at - slow1!.at).to.be.within(SEND_TIMEOUT_SECONDS * 1000, 15_000);
      expect(fast!.at - slow2!.at).to.be.within(SEND_TIMEOUT_SECONDS * 1000, 15_000);
      await pause(org, streamId);
    });

    it('the delivering instance SIGKILLed: the other takes the stream over within the lease', async () => {
      const { org, receiver, streamId } = await newStream('takeover');
      const ingest = ingesting([svc, other], org);
      await waitFor('deliveries under way', () => receiver.batches.length >= 3, 60_000);
      // The counter moves once the cursor is written, a moment after the receiver has the batch.
      const counts = await waitFor('the deliveries counted', async () => {
        const c = [await deliveredBy(svc, streamId), await deliveredBy(other, streamId)];
        return c[0]! + c[1]! > 0 && c;
      });
      expect(counts[0] === 0 || counts[1] === 0, `delivered by each: ${counts.join(', ')}`).to.equal(true);
      const [deliverer, survivor] = counts[0]! > 0 ? [svc, other] : [other, svc];

      const arrived = new Promise<void>((resolve) => {
        receiver.holdNext = () => {
          resolve();
          return 10_000;
        };
      });
      await arrived;
      const held = receiver.attempts.at(-1)!;
      await deliverer.stop('SIGKILL');
      const killedAt = Date.now();
      const resent = await waitFor('the held batch sent again', () =>
        receiver.batches.find((b) => b.webhookId === held.webhookId),
      );
      const tookMs = resent.at - killedAt;
      expect(tookMs, 'takeover (ms)').to.be.below((LEASE_SECONDS + POLL_SECONDS + 2) * 1000);
      expect(resent.entries.map((e) => e.id)).to.deep.equal(held.ids);
      await waitFor(
        'the survivor counting its deliveries',
        async () => (await deliveredBy(survivor, streamId)) > 0,
      );

      await deliverer.start();
      await sleep(3000);
      const acknowledged = await ingest.stop();
      await expectWholeStream('delivering instance SIGKILLed', receiver, survivor, org, acknowledged, [
        held.webhookId,
      ]);
      expect(receiver.maxInFlight, 'requests at once').to.equal(1);
      console.log(`      taken over ${tookMs} ms after the kill (lease ${LEASE_SECONDS} s)`);
      await pause(org, streamId);
    });
  });
});
