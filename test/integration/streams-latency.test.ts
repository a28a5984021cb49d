/**
 * How soon an entry leaves: the instance that seals it starts delivering at once, so an entry waits for its
 * seal, not for the streams' next poll as well (docs/streams.md, "What is sent").
 */
import { expect } from 'chai';
import crypto from 'node:crypto';
import { createOrg, ingest, startReadService, type ReadService, type TestOrg } from '../fixtures/read.ts';
import { streamsApi, waitFor } from '../fixtures/streams.ts';
import { WebhookReceiver } from '../fixtures/webhook-receiver.ts';

describe('push streams: latency', function () {
  this.timeout(60_000);
  let svc: ReadService;
  let org: TestOrg;
  let receiver: WebhookReceiver;
  let streamId: string | undefined;

  const api = (method: string, path: string, body?: unknown) =>
    streamsApi(svc.url, method, path, org.keys.owner, body);

  before(async () => {
    svc = await startReadService({
      AUDIT_STREAM_ALLOW_PRIVATE: 'true',
      // A poll far longer than the test waits: only the sealer's word can start a delivery in time.
      AUDIT_STREAM_POLL_SECONDS: '600',
      AUDIT_SEAL_INTERVAL_SECONDS: '1',
    });
    org = await createOrg(svc.ctx);
    receiver = await new WebhookReceiver(`whsec_${crypto.randomBytes(24).toString('base64')}`).start();
  });
  after(async () => {
    if (streamId) await api('DELETE', `/${streamId}`);
    await svc?.close();
    await receiver?.stop();
  });

  it('delivers an entry once it is sealed, without waiting for the next poll', async () => {
    const created = await api('POST', '', {
      type: 'webhook',
      name: 'prompt',
      settings: { url: receiver.url, secret: receiver.secret },
    });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    streamId = created.body.id;
    const t0 = Date.now();
    await ingest(svc.ctx, org.orgId, [
      { id: 'prompt_1', action: 'workflow.created', resourceType: 'workflow' },
    ]);
    await waitFor('the entry at the receiver', () => receiver.ids().includes('prompt_1'), 20_000);
    expect(Date.now() - t0).to.be.below(20_000);
  });
});
