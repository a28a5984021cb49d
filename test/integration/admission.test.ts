/**
 * Admission under slow clients, against a real service on 127.0.0.1 and the real engine: slow uploads are cut
 * off with their own answer and never keep other orgs from writing; exports and stream pages held open by
 * clients that do not read are bounded in number, and one key cannot take the last place.
 */
import { expect } from 'chai';
import http from 'node:http';
import net from 'node:net';
import { unsealedCount } from '../../src/integrity/seals.ts';
import { seedIngestKey, seedOrg } from '../helpers.ts';
import { postEvents } from '../fixtures/ingest.ts';
import { createOrg, ingest, startReadService, type ReadService, type TestOrg } from '../fixtures/read.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface RawAnswer {
  status: number;
  body: { code?: string; error?: string } | undefined;
  /** Milliseconds from the first byte sent to the whole answer received. */
  afterMs: number;
  /** The socket, to see whether the server closes it. */
  socket: net.Socket;
}

/**
 * A POST whose body (`length` bytes declared) arrives one byte per second, as a slowloris would send it; gives
 * up after `giveUpMs` (status 0). Its bytes are never a complete body.
 */
function slowUpload(port: number, key: string, length: number, giveUpMs: number): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => undefined); // writing after the server closed: expected
    let received = Buffer.alloc(0);
    let drip: NodeJS.Timeout | undefined;
    const finish = (status: number, body?: RawAnswer['body']) => {
      clearInterval(drip);
      clearTimeout(giveUp);
      resolve({ status, body, afterMs: Date.now() - started, socket });
    };
    const giveUp = setTimeout(() => {
      socket.destroy();
      finish(0);
    }, giveUpMs);
    socket.on('connect', () => {
      socket.write(
        'POST /api/v1/audit-logs HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
          `Authorization: Bearer ${key}\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n{`,
      );
      drip = setInterval(() => socket.write(' '), 1000);
    });
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const text = received.toString('utf8');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/\r\ncontent-length: (\d+)/i.exec(text.slice(0, end))?.[1] ?? NaN);
      const body = received.subarray(Buffer.byteLength(text.slice(0, end + 4)));
      if (body.length < length) return;
      finish(Number(text.slice(9, 12)), JSON.parse(body.toString('utf8')));
    });
  });
}

/** Whether the server closes `socket` within `ms`. */
function closesWithin(socket: net.Socket, ms: number): Promise<boolean> {
  if (socket.destroyed || socket.readableEnded) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

describe('ingest admission: slow uploads', function () {
  this.timeout(60_000);
  let service: ReadService;
  let port: number;
  let slowKey: string;
  let otherOrg: string;
  let otherKey: string;

  before(async () => {
    service = await startReadService({
      AUDIT_INGEST_CONCURRENCY: '4',
      AUDIT_INGEST_BODY_TIMEOUT_SECONDS: '2',
      AUDIT_REQUEST_TIMEOUT_SECONDS: '10',
      AUDIT_RATE_LIMIT_PER_MINUTE: '100000',
    });
    port = Number(new URL(service.url).port);
    slowKey = await seedIngestKey(service.ctx, await seedOrg(service.ctx));
    otherOrg = await seedOrg(service.ctx);
    otherKey = await seedIngestKey(service.ctx, otherOrg);
  });
  after(() => service.close());

  it('four bodies at 1 byte/s from one key: other orgs keep writing; the slow ones get 408 long before 10 s', async () => {
    const slow = [1, 2, 3, 4].map(() => slowUpload(port, slowKey, 2000, 15_000));
    await sleep(300);
    const others: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await postEvents(service.url, otherKey, {
        action: 'workflow.created',
        resourceType: 'workflow',
        resourceName: `while slow uploads arrive ${i}`,
      });
      others.push(res.status);
      await sleep(200);
    }
    expect(others, 'the other org is answered 201 every time').to.deep.equal([201, 201, 201, 201, 201]);

    for (const answer of await Promise.all(slow)) {
      expect(answer.status, JSON.stringify(answer.body)).to.equal(408);
      expect(answer.body?.code).to.equal('body_timeout');
      expect(answer.afterMs, 'cut off after the body timeout, not the 10 s request deadline').to.be.below(
        4_000,
      );
      expect(await closesWithin(answer.socket, 2_000), 'the slow connection is closed').to.equal(true);
    }
  });

  it('one key beyond half of the bytes being read, leaving no room for a body: its next upload is 503, another key still writes', async () => {
    const small = await startReadService({
      AUDIT_INGEST_BODY_TIMEOUT_SECONDS: '3',
      AUDIT_INGEST_READ_BUFFER_MB: '1',
      AUDIT_RATE_LIMIT_PER_MINUTE: '100000',
    });
    try {
      const smallPort = Number(new URL(small.url).port);
      // 2 x 200 KB declared fit in the key's half of 1 MB; a third does not.
      const held = [
        slowUpload(smallPort, slowKey, 200_000, 10_000),
        slowUpload(smallPort, slowKey, 200_000, 10_000),
      ];
      await sleep(300);
      const third = await slowUpload(smallPort, slowKey, 200_000, 10_000);
      expect(third.status, JSON.stringify(third.body)).to.equal(503);
      expect(third.body?.code).to.equal('ingest_busy');
      expect(third.afterMs, 'answered at once').to.be.below(1_000);
      const other = await postEvents(small.url, otherKey, {
        action: 'workflow.created',
        resourceType: 'workflow',
      });
      expect(other.status, JSON.stringify(other.body)).to.equal(201);
      for (const answer of await Promise.all(held)) expect(answer.status).to.equal(408);
    } finally {
      await small.close();
    }
  });
});

/** A GET whose answer is not read: its headers arrive, then the client stops taking bytes. */
function heldGet(base: string, path: string, key: string): Promise<{ status: number; close: () => void }> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${base}${path}`, { headers: { authorization: `Bearer ${key}` } }, (res) => {
      res.pause();
      resolve({ status: res.statusCode ?? 0, close: () => req.destroy() });
    });
    req.on('error', (err) => (err.message.includes('socket hang up') ? undefined : reject(err)));
  });
}

async function getJson(base: string, path: string, key: string) {
  const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${key}` } });
  const text = await res.text();
  const body = res.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : text;
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body };
}

describe('read admission: exports and stream pages held open', function () {
  this.timeout(120_000);
  let service: ReadService;
  let org: TestOrg;

  before(async () => {
    service = await startReadService({
      AUDIT_EXPORT_CONCURRENCY: '2',
      AUDIT_STREAM_CONCURRENCY: '2',
      AUDIT_SEAL_INTERVAL_SECONDS: '1',
      AUDIT_RATE_LIMIT_PER_MINUTE: '100000',
    });
    org = await createOrg(service.ctx);
    // ~20 MB of entries: far more than the sockets' buffers, so a client that does not read holds its answer.
    const pad = 'x'.repeat(14_000);
    const now = Date.now();
    const events = Array.from({ length: 1400 }, (_, i) => ({
      action: 'workflow.created',
      resourceType: 'workflow',
      createdAt: new Date(now - 60_000 + i).toISOString(),
      metadata: { pad },
    }));
    // In small batches: a 14 MB one is slower than the ledger allows on a busy machine.
    for (let i = 0; i < events.length; i += 100) {
      await ingest(service.ctx, org.orgId, events.slice(i, i + 100));
    }
  });
  after(() => service.close());

  it('answers the N+1th concurrent export 503 export_busy + Retry-After while N are open, one key never the last place', async () => {
    const path = '/api/v1/audit-logs/export?format=ndjson';
    const first = await heldGet(service.url, path, org.keys.owner);
    expect(first.status).to.equal(200);
    const sameKey = await getJson(service.url, path, org.keys.owner);
    expect(sameKey.status, 'the same key beyond its half').to.equal(503);
    expect(sameKey.body.code).to.equal('export_busy');

    const second = await heldGet(service.url, path, org.keys.admin);
    expect(second.status).to.equal(200);
    const third = await getJson(service.url, path, org.keys.workspace);
    expect(third.status).to.equal(503);
    expect(third.body.code).to.equal('export_busy');
    expect(Number(third.retryAfter)).to.be.greaterThan(0);

    first.close();
    second.close();
    await sleep(200);
    const after = await heldGet(service.url, path, org.keys.workspace);
    expect(after.status, 'a place is free again once an export is gone').to.equal(200);
    after.close();
  });

  it('answers a stream page beyond AUDIT_STREAM_CONCURRENCY 503 stream_busy + Retry-After', async () => {
    const deadline = Date.now() + 60_000;
    while ((await unsealedCount(service.store, org.orgId)) > 0) {
      if (Date.now() > deadline) throw new Error('the entries were not sealed in time');
      await sleep(500);
    }
    const path = '/api/v1/audit-logs/stream?limit=1000';
    const held = [
      await heldGet(service.url, path, org.keys.owner),
      await heldGet(service.url, path, org.keys.admin),
    ];
    expect(held.map((h) => h.status)).to.deep.equal([200, 200]);
    const third = await getJson(service.url, path, org.keys.workspace);
    expect(third.status).to.equal(503);
    expect(third.body.code).to.equal('stream_busy');
    expect(Number(third.retryAfter)).to.be.greaterThan(0);
    for (const h of held) h.close();
  });
});
