/**
 * Webhook delivery end to end: the service's own delivery loop against a real Standard Webhooks receiver
 * (test/fixtures/webhook-receiver.ts) that verifies every signature. Every entry arrives once and in stream
 * order; a receiver that was down, throttled (429 + Retry-After) or refused the credentials (401) is caught up
 * with nothing missing; pause, resume and replay do what they say; private addresses are refused unless allowed.
 */
import { expect } from 'chai';
import crypto from 'node:crypto';
import { createOrg, ingest, startReadService, type ReadService, type TestOrg } from '../fixtures/read.ts';
import { expectedEntries, streamsApi, waitFor } from '../fixtures/streams.ts';
import { selfSignedFor127 } from '../fixtures/tls-cert.ts';
import { WebhookReceiver } from '../fixtures/webhook-receiver.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const TOKEN = 'streams-webhook-operator-token';

const newSecret = () => `whsec_${crypto.randomBytes(24).toString('base64')}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function events(n: number, tag: string): Json[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `${tag}_${String(i).padStart(5, '0')}`,
    action: i % 2 ? 'workflow.created' : 'api_key.created',
    resourceType: i % 2 ? 'workflow' : 'api_key',
    resourceId: `r${i}`,
  }));
}

describe('webhook streams: delivery', function () {
  this.timeout(120_000);
  let svc: ReadService;
  let org: TestOrg;
  let receiver: WebhookReceiver;
  let streamId: string;

  const stream = async () => (await streamsApi(svc.url, 'GET', `/${streamId}`, org.keys.owner)).body;
  /** Waits until the receiver holds every entry of the org's stream, then returns the expected ids. */
  async function allDelivered(): Promise<string[]> {
    const expected = (await expectedEntries(svc.ctx, org.orgId)).map((e) => e.id);
    await waitFor(
      `${expected.length} entries at the receiver`,
      () => receiver.ids().length >= expected.length,
    );
    return expected;
  }

  before(async () => {
    svc = await startReadService({
      AUDIT_ADMIN_TOKEN: TOKEN,
      AUDIT_STREAM_ALLOW_PRIVATE: 'true',
      AUDIT_STREAM_POLL_SECONDS: '0.2',
      AUDIT_STREAM_MAX_BACKOFF_SECONDS: '1',
      AUDIT_SEAL_INTERVAL_SECONDS: '1',
    });
    org = await createOrg(svc.ctx);
    receiver = await new WebhookReceiver(newSecret()).start();
    const created = await streamsApi(svc.url, 'POST', '', org.keys.owner, {
      type: 'webhook',
      name: 'receiver',
      settings: { url: receiver.url, secret: receiver.secret },
    });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    streamId = created.body.id;
  });
  after(async () => {
    if (streamId) await streamsApi(svc.url, 'DELETE', `/${streamId}`, org.keys.owner);
    await svc?.close();
    await receiver?.stop();
  });

  it('delivers every entry of the org once, in stream order, each request signed', async () => {
    await ingest(svc.ctx, org.orgId, events(1500, 'a'));
    const expected = await allDelivered();
    expect(receiver.ids()).to.deep.equal(expected);
    expect(receiver.rejected).to.deep.equal([]);
    expect(receiver.batches.every((b) => b.entries.length <= 1000)).to.equal(true);
    const s = await waitFor('the cursor to be written', async () => {
      const s = await stream();
      return s.delivered === expected.length && s;
    });
    expect(s).to.include({ status: 'active', lagSeconds: 0, lastError: null });
    expect(Date.parse(s.lastDeliveredAt)).to.be.greaterThan(Date.now() - 60_000);
    // The counter and the lag follow the cursor's write by a moment; a timeout here fails the test.
    await waitFor('the delivery counted in /metrics', async () => {
      const text = await (
        await fetch(`${svc.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })
      ).text();
      const counted = `audit_stream_delivered_total{stream="${streamId}"} ${expected.length}`;
      return text.includes(counted) && text.includes(`audit_stream_lag_seconds{stream="${streamId}"} 0`);
    });
  });

  it('resumes after the receiver was down, with nothing missing and no entry twice', async () => {
    await receiver.stop();
    await ingest(svc.ctx, org.orgId, events(50, 'b'));
    await expectedEntries(svc.ctx, org.orgId);
    const down = await waitFor('a failed attempt', async () => {
      const s = await stream();
      return s.lastError && s;
    });
    expect(down.lastError).to.match(/unreachable: ECONNREFUSED/);
    await receiver.start();
    const expected = await allDelivered();
    expect(receiver.ids()).to.deep.equal(expected);
    expect(receiver.allIds()).to.have.length(expected.length);
    await waitFor('the error to clear', async () => (await stream()).lastError === null);
  });

  it('waits as long as Retry-After says, then delivers the same batch (same webhook-id)', async () => {
    let first = true;
    receiver.reply = () => {
      if (!first) return undefined;
      first = false;
      return { status: 429, headers: { 'Retry-After': '2' } };
    };
    await ingest(svc.ctx, org.orgId, events(5, 'c'));
    const expected = await allDelivered();
    receiver.reply = undefined;
    expect(receiver.ids()).to.deep.equal(expected);
    const throttled = receiver.attempts.find((a) => a.status === 429)!;
    const retry = receiver.attempts.find((a) => a.webhookId === throttled.webhookId && a.status === 200)!;
    expect(retry, 'the retry carries the same webhook-id').to.not.equal(undefined);
    expect(retry.at - throttled.at).to.be.at.least(1900);
  });

  it('re-sends exactly the same batch under the same webhook-id, even when more was sealed meanwhile', async () => {
    let refuse = true;
    receiver.reply = () => (refuse ? { status: 503 } : undefined);
    await ingest(svc.ctx, org.orgId, events(5, 'f'));
    await expectedEntries(svc.ctx, org.orgId);
    const refused = await waitFor('a refused attempt', () => receiver.attempts.find((a) => a.status === 503));
    await ingest(svc.ctx, org.orgId, events(5, 'g'));
    await expectedEntries(svc.ctx, org.orgId);
    refuse = false;
    const expected = await allDelivered();
    receiver.reply = undefined;
    expect(receiver.ids()).to.deep.equal(expected);
    const accepted = receiver.attempts.find((a) => a.webhookId === refused.webhookId && a.status === 200);
    expect(accepted?.ids).to.deep.equal(refused.ids);
  });

  it('a 401 makes the stream failing with lastError naming the cause; resume after the fix delivers all', async () => {
    receiver.reply = () => ({ status: 401, body: 'bad token' });
    await ingest(svc.ctx, org.orgId, events(3, 'd'));
    await expectedEntries(svc.ctx, org.orgId);
    const failing = await waitFor('status failing', async () => {
      const s = await stream();
      return s.status === 'failing' && s;
    });
    expect(failing.lastError).to.match(/answered 401 \(the receiver refused the credentials\): bad token/);
    receiver.reply = undefined;
    expect((await streamsApi(svc.url, 'POST', `/${streamId}/resume`, org.keys.owner)).body.status).to.equal(
      'active',
    );
    const expected = await allDelivered();
    expect(receiver.ids()).to.deep.equal(expected);
  });

  it('pause holds delivery, resume continues from the cursor, replay sends again from a position', async () => {
    expect((await streamsApi(svc.url, 'POST', `/${streamId}/pause`, org.keys.owner)).body.status).to.equal(
      'paused',
    );
    const before = receiver.allIds().length;
    await ingest(svc.ctx, org.orgId, events(20, 'e'));
    await expectedEntries(svc.ctx, org.orgId);
    await sleep(1500);
    // A paused stream is no longer delivered here: its lag leaves the metrics.
    const metrics = await (
      await fetch(`${svc.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).text();
    expect(metrics).not.to.include(`audit_stream_lag_seconds{stream="${streamId}"}`);
    // Only what is recorded about the pause itself may not have been sent: nothing after it is.
    expect(
      receiver
        .allIds()
        .slice(before)
        .filter((id) => id.startsWith('e_')),
    ).to.deep.equal([]);
    await streamsApi(svc.url, 'POST', `/${streamId}/resume`, org.keys.owner);
    const expected = await allDelivered();
    expect(receiver.ids()).to.deep.equal(expected);

    const total = receiver.allIds().length;
    const sentBefore = new Set(receiver.batches.map((b) => b.webhookId));
    const batchesBefore = receiver.batches.length;
    const replay = await streamsApi(svc.url, 'POST', `/${streamId}/replay`, org.keys.owner, {
      cursor: { seq: 1, leaf: 0 },
    });
    expect(replay.body.cursor).to.deep.equal({ seq: 1, leaf: 0 });
    const again = await expectedEntries(svc.ctx, org.orgId);
    await waitFor('the replay', () => receiver.allIds().length >= total + again.length - 5);
    expect(receiver.allIds().slice(total, total + 1500)).to.deep.equal(again.slice(0, 1500).map((e) => e.id));
    // Replayed batches have new ids: a receiver dropping batches it has seen keeps them.
    const replayed = receiver.batches.slice(batchesBefore);
    expect(replayed.filter((b) => sentBefore.has(b.webhookId))).to.deep.equal([]);
  });

  it('answers a test event with the receiver reply', async () => {
    const res = await streamsApi(svc.url, 'POST', `/${streamId}/test`, org.keys.owner);
    expect(res.body).to.include({ ok: true, error: null });
    expect(res.body.reply).to.equal('200 ok');
    // Sent outside the stream: its own batch, not a position of the cursor.
    const test = receiver.batches.find((b) => b.webhookId.startsWith('test_'))!;
    expect(test.entries).to.have.length(1);
    expect(test.entries[0]).to.include({ action: 'audit_stream.tested', resourceId: streamId });
  });
});

describe('webhook streams: private addresses and disabling', function () {
  this.timeout(120_000);
  let svc: ReadService;
  let org: TestOrg;
  let receiver: WebhookReceiver;
  let streamId: string;

  before(async () => {
    svc = await startReadService({
      AUDIT_ADMIN_TOKEN: TOKEN,
      AUDIT_STREAM_POLL_SECONDS: '0.2',
      AUDIT_STREAM_MAX_BACKOFF_SECONDS: '0.5',
      AUDIT_STREAM_DISABLE_AFTER_HOURS: '0.001',
      AUDIT_SEAL_INTERVAL_SECONDS: '1',
    });
    org = await createOrg(svc.ctx);
    receiver = await new WebhookReceiver(newSecret()).start();
  });
  after(async () => {
    if (streamId) await streamsApi(svc.url, 'DELETE', `/${streamId}`, org.keys.owner);
    await svc?.close();
    await receiver?.stop();
  });

  it('refuses a receiver on a loopback address at connection time, names why, and disables the stream', async () => {
    // A name, not a literal: it passes when saved, and is refused when the connection resolves it.
    const created = await streamsApi(svc.url, 'POST', '', org.keys.owner, {
      type: 'webhook',
      name: 'local',
      settings: { url: `https://localhost:${receiver.port}/hook`, secret: receiver.secret },
    });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    streamId = created.body.id;
    await expectedEntries(svc.ctx, org.orgId);
    const failing = await waitFor('status failing', async () => {
      const s = (await streamsApi(svc.url, 'GET', `/${streamId}`, org.keys.owner)).body;
      return s.status === 'failing' && s;
    });
    expect(failing.lastError).to.match(
      /localhost: (127\.0\.0\.1|::1) is a loopback, private or link-local address/,
    );
    expect(receiver.attempts).to.deep.equal([]);

    const disabled = await waitFor(
      'status disabled',
      async () => {
        const s = (await streamsApi(svc.url, 'GET', `/${streamId}`, org.keys.owner)).body;
        return s.status === 'disabled' && s;
      },
      20_000,
    );
    expect(disabled.lastError).to.match(/loopback/);
    const logged = await expectedEntries(svc.ctx, org.orgId);
    const event = logged.find((e) => e.action === 'audit_stream.disabled' && e.resourceId === streamId);
    expect(event, 'an audit event says the stream was disabled').to.not.equal(undefined);
    expect(event!.actorName).to.equal('Audit log service');
    expect((await streamsApi(svc.url, 'POST', `/${streamId}/resume`, org.keys.owner)).body.status).to.equal(
      'active',
    );
  });
});

describe('webhook streams: a slow receiver', function () {
  this.timeout(120_000);
  let svc: ReadService;
  let org: TestOrg;
  let slow: WebhookReceiver;
  let fast: WebhookReceiver;
  const ids: string[] = [];

  before(async () => {
    svc = await startReadService({
      AUDIT_STREAM_ALLOW_PRIVATE: 'true',
      AUDIT_STREAM_POLL_SECONDS: '0.2',
      AUDIT_STREAM_SEND_TIMEOUT_SECONDS: '5',
      AUDIT_SEAL_INTERVAL_SECONDS: '1',
    });
    org = await createOrg(svc.ctx);
    slow = await new WebhookReceiver(newSecret()).start();
    slow.delayMs = 60_000;
    fast = await new WebhookReceiver(newSecret()).start();
    for (const r of [slow, fast]) {
      const res = await streamsApi(svc.url, 'POST', '', org.keys.owner, {
        type: 'webhook',
        name: r === slow ? 'slow' : 'fast',
        settings: { url: r.url, secret: r.secret },
      });
      ids.push(res.body.id);
    }
  });
  after(async () => {
    for (const id of ids) await streamsApi(svc.url, 'DELETE', `/${id}`, org.keys.owner);
    await svc?.close();
    await slow?.stop();
    await fast?.stop();
  });

  it('delays only its own stream: another stream of the org is delivered at once', async () => {
    const expected = (await expectedEntries(svc.ctx, org.orgId)).map((e) => e.id);
    await waitFor('the fast receiver', () => fast.ids().length >= expected.length, 20_000);
    await ingest(svc.ctx, org.orgId, events(10, 'h'));
    const sealed = await expectedEntries(svc.ctx, org.orgId);
    const t0 = Date.now();
    await waitFor('the new entries at the fast receiver', () => fast.ids().length >= sealed.length, 20_000);
    expect(Date.now() - t0, 'ms after sealing').to.be.below(2500);
    expect(fast.ids()).to.deep.equal(sealed.map((e) => e.id));
    expect(slow.batches).to.deep.equal([]);
    const s = await waitFor('the slow stream to time out', async () => {
      const s = (await streamsApi(svc.url, 'GET', `/${ids[0]}`, org.keys.owner)).body;
      return s.lastError && s;
    });
    expect(s.lastError).to.match(/did not answer in time/);
  });
});

describe('webhook streams: TLS', function () {
  this.timeout(120_000);
  let svc: ReadService;
  let org: TestOrg;
  let receiver: WebhookReceiver;
  let cert: string;
  const ids: string[] = [];

  before(async () => {
    let key: string;
    ({ cert, key } = selfSignedFor127());
    svc = await startReadService({
      AUDIT_STREAM_ALLOW_PRIVATE: 'true',
      AUDIT_STREAM_POLL_SECONDS: '0.2',
      AUDIT_STREAM_MAX_BACKOFF_SECONDS: '1',
      AUDIT_SEAL_INTERVAL_SECONDS: '1',
    });
    org = await createOrg(svc.ctx);
    receiver = await new WebhookReceiver(newSecret(), { key, cert }).start();
  });
  after(async () => {
    for (const id of ids) await streamsApi(svc.url, 'DELETE', `/${id}`, org.keys.owner);
    await svc?.close();
    await receiver?.stop();
  });

  it('verifies the receiver certificate always; a stream that names its CA is delivered', async () => {
    const untrusted = await streamsApi(svc.url, 'POST', '', org.keys.owner, {
      type: 'webhook',
      name: 'untrusted',
      settings: { url: receiver.url, secret: receiver.secret },
    });
    ids.push(untrusted.body.id);
    const refused = await waitFor('a refused certificate', async () => {
      const s = (await streamsApi(svc.url, 'GET', `/${untrusted.body.id}`, org.keys.owner)).body;
      return s.lastError && s;
    });
    expect(refused.lastError).to.match(/SELF_SIGNED|UNABLE_TO_VERIFY/);
    expect(receiver.batches).to.deep.equal([]);
    await streamsApi(svc.url, 'POST', `/${untrusted.body.id}/pause`, org.keys.owner);

    const trusted = await streamsApi(svc.url, 'POST', '', org.keys.owner, {
      type: 'webhook',
      name: 'trusted',
      settings: { url: receiver.url, secret: receiver.secret, ca: cert },
    });
    expect(trusted.status, JSON.stringify(trusted.body)).to.equal(201);
    expect(trusted.body.settings.ca).to.equal(cert);
    ids.push(trusted.body.id);
    const expected = (await expectedEntries(svc.ctx, org.orgId)).map((e) => e.id);
    await waitFor('delivery over TLS', () => receiver.ids().length >= expected.length);
    expect(receiver.ids()).to.deep.equal(expected);
  });
});
