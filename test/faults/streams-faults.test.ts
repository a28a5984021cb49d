/**
 * Push streams under a crash: the service (a real process) is SIGKILLed while it delivers to a real Standard
 * Webhooks receiver and ingest continues, then started again. Every acknowledged event must reach the receiver,
 * in stream order, and the only duplicates allowed are re-sends of a batch that was in flight at the crash
 * (same webhook-id, same entries).
 */
import { expect } from 'chai';
import crypto from 'node:crypto';
import { Engine, newOrg, produce, Service, sleep } from './harness.ts';
import { waitFor } from '../fixtures/streams.ts';
import { WebhookReceiver } from '../fixtures/webhook-receiver.ts';

describe('stream faults', function () {
  this.timeout(600_000);
  const engine = new Engine();
  let svc: Service;
  let receiver: WebhookReceiver;

  before(async () => {
    await engine.start();
    svc = new Service(() => engine.url, {
      AUDIT_STREAM_ALLOW_PRIVATE: 'true',
      AUDIT_STREAM_POLL_SECONDS: '0.2',
      AUDIT_STREAM_LEASE_SECONDS: '3',
      AUDIT_STREAM_MAX_BACKOFF_SECONDS: '1',
    });
    await svc.start();
    receiver = await new WebhookReceiver(`whsec_${crypto.randomBytes(24).toString('base64')}`).start();
  });
  after(async () => {
    await svc?.stop();
    await receiver?.stop();
    await engine.destroy();
  });

  /** The org's whole SIEM stream, in order, read through the API. */
  async function streamIds(readKey: string): Promise<string[]> {
    const ids: string[] = [];
    let cursor = '';
    for (;;) {
      const res = await fetch(
        `${svc.url}/api/v1/audit-logs/stream?limit=1000${cursor ? `&cursor=${cursor}` : ''}`,
        {
          headers: { authorization: `Bearer ${readKey}` },
        },
      );
      const page = (await res.json()) as { data: { id: string }[]; nextCursor: string; caughtUp: boolean };
      ids.push(...page.data.map((e) => e.id));
      cursor = encodeURIComponent(page.nextCursor);
      if (page.caughtUp) return ids;
    }
  }

  it('service SIGKILLed mid-delivery: every event received in order, duplicates only from the batch in flight', async () => {
    const org = await newOrg(svc);
    const res = await fetch(`${svc.url}/api/v1/audit-logs/streams`, {
      method: 'POST',
      headers: { authorization: `Bearer ${org.readKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        type: 'webhook',
        name: 'crash',
        settings: { url: receiver.url, secret: receiver.secret },
      }),
    });
    expect(res.status).to.equal(201);

    let running = true;
    const stats = produce(svc, org.ingestKey, {
      producers: 2,
      size: 200,
      running: () => running,
      giveUpAt: Date.now() + 300_000,
    });
    await waitFor('deliveries under way', () => receiver.batches.length >= 3, 60_000);
    // The next batch is held unanswered while the service is killed: it is in flight at the crash.
    const arrived = new Promise<void>((resolve) => {
      receiver.holdNext = () => {
        resolve();
        return 3000;
      };
    });
    await arrived;
    await svc.stop('SIGKILL');
    await sleep(500);
    await svc.start();
    await sleep(5000);
    running = false;
    const { acknowledged } = await stats;

    await waitFor(
      'every acknowledged event at the receiver',
      () => {
        const got = new Set(receiver.allIds());
        return [...acknowledged].every((id) => got.has(id));
      },
      180_000,
    );
    const expected = await streamIds(org.readKey);
    await waitFor('the whole stream at the receiver', () => receiver.ids().length >= expected.length, 60_000);

    // Counting each batch once (by webhook-id), the receiver holds the stream exactly, in order.
    expect(receiver.ids()).to.deep.equal(expected);
    expect(receiver.rejected).to.deep.equal([]);
    // Every duplicate is a re-send of one batch: the same webhook-id with the same entries.
    const byId = new Map<string, string[][]>();
    for (const b of receiver.batches)
      byId.set(b.webhookId, [...(byId.get(b.webhookId) ?? []), b.entries.map((e) => e.id)]);
    const resent = [...byId.values()].filter((copies) => copies.length > 1);
    for (const copies of resent) for (const c of copies) expect(c).to.deep.equal(copies[0]);
    expect(resent.length, 'batches stored twice').to.be.at.most(1);
    const duplicates = receiver.allIds().length - new Set(receiver.allIds()).size;
    expect(duplicates).to.equal(resent.reduce((n, copies) => n + (copies.length - 1) * copies[0]!.length, 0));
    console.log(
      `      ${acknowledged.size} events acknowledged, ${expected.length} entries streamed, ${resent.length} batch(es) re-sent, ${duplicates} duplicate entries`,
    );
  });
});
