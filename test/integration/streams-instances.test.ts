/**
 * Two instances, one stream: exactly one delivers it at a time (its lease), and when that instance dies
 * without handing the lease over, the other takes the stream over within the lease's TTL and continues from
 * the cursor, nothing missing.
 */
import { expect } from 'chai';
import crypto from 'node:crypto';
import { createOrg, ingest, startReadService, type ReadService, type TestOrg } from '../fixtures/read.ts';
import { expectedEntries, waitFor } from '../fixtures/streams.ts';
import { WebhookReceiver } from '../fixtures/webhook-receiver.ts';

const LEASE_SECONDS = 2;

describe('push streams on two instances', function () {
  this.timeout(120_000);
  let a: ReadService;
  let b: ReadService;
  let org: TestOrg;
  let receiver: WebhookReceiver;
  let streamId: string;
  /** The instance still running at the end. */
  let alive: ReadService | undefined;
  let dead: ReadService | undefined;

  const deliveredBy = async (svc: ReadService) => {
    const m = await svc.metrics.streamDelivered.get();
    return m.values.find((v) => v.labels.stream === streamId)?.value ?? 0;
  };

  before(async () => {
    const env = {
      AUDIT_STREAM_KEY: crypto.randomBytes(32).toString('base64'),
      AUDIT_STREAM_ALLOW_PRIVATE: 'true',
      AUDIT_STREAM_POLL_SECONDS: '0.2',
      AUDIT_STREAM_LEASE_SECONDS: String(LEASE_SECONDS),
      AUDIT_SEAL_INTERVAL_SECONDS: '1',
    };
    a = await startReadService(env);
    b = await startReadService(env);
    org = await createOrg(a.ctx);
    receiver = await new WebhookReceiver(`whsec_${crypto.randomBytes(24).toString('base64')}`).start();
    receiver.delayMs = 20;
    const res = await fetch(`${a.url}/api/v1/audit-logs/streams`, {
      method: 'POST',
      headers: { authorization: `Bearer ${org.keys.owner}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        type: 'webhook',
        name: 'two',
        settings: { url: receiver.url, secret: receiver.secret },
      }),
    });
    expect(res.status).to.equal(201);
    streamId = ((await res.json()) as { id: string }).id;
  });
  after(async () => {
    if (streamId) {
      await fetch(`${(alive ?? a).url}/api/v1/audit-logs/streams/${streamId}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${org.keys.owner}` },
      });
    }
    for (const svc of [a, b]) if (svc && svc !== dead) await svc.close();
    await receiver?.stop();
  });

  it('one instance delivers; the other takes over within the lease TTL when it dies; nothing missing', async () => {
    for (let round = 0; round < 5; round++) {
      await ingest(
        a.ctx,
        org.orgId,
        Array.from({ length: 20 }, (_, i) => ({
          id: `x${round}_${i}`,
          action: 'workflow.created',
          resourceType: 'workflow',
        })),
      );
      await new Promise((r) => setTimeout(r, 300));
    }
    let expected = (await expectedEntries(a.ctx, org.orgId)).map((e) => e.id);
    await waitFor('the first entries', () => receiver.ids().length >= expected.length);
    // The counter moves once the cursor is written, a moment after the receiver has the batch.
    const [byA, byB] = await waitFor('the deliveries counted', async () => {
      const counts: [number, number] = [await deliveredBy(a), await deliveredBy(b)];
      return counts[0] + counts[1] >= expected.length && counts;
    });
    expect(byA === 0 || byB === 0, `delivered by a: ${byA}, by b: ${byB}`).to.equal(true);
    expect(receiver.maxInFlight, 'requests at once').to.equal(1);

    const [killed, survivor] = byA > 0 ? [a, b] : [b, a];
    dead = killed;
    alive = survivor;
    await killed.kill(); // no lease handover
    const killedAt = Date.now();
    await ingest(survivor.ctx, org.orgId, [
      { id: 'after_kill', action: 'workflow.created', resourceType: 'workflow' },
    ]);
    await expectedEntries(survivor.ctx, org.orgId);
    await waitFor('the entry ingested after the kill', () => receiver.ids().includes('after_kill'), 30_000);
    const tookMs = Date.now() - killedAt;
    expect(tookMs, 'takeover time').to.be.below((LEASE_SECONDS + 3) * 1000);
    await waitFor('the survivor to count its delivery', async () => (await deliveredBy(survivor)) > 0);

    expected = (await expectedEntries(survivor.ctx, org.orgId)).map((e) => e.id);
    await waitFor('the whole stream', () => receiver.ids().length >= expected.length);
    expect(receiver.ids()).to.deep.equal(expected);
    expect(receiver.maxInFlight).to.equal(1);
  });
});
