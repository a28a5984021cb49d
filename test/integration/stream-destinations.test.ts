/**
 * The Splunk HEC, Datadog and syslog destinations against their receivers, started here: strict contract
 * stand-ins for HEC and the Datadog intake (test/receivers/), and a real rsyslogd with TLS. No OpenSearch
 * is used; each test delivers batches the way the delivery loop does and reads back what the receiver holds.
 */
import { expect } from 'chai';
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import zlib from 'node:zlib';
import { createDatadogDestination } from '../../src/delivery/datadog.ts';
import type { Batch, Destination, SendResult } from '../../src/delivery/destination.ts';
import { createSplunkHecDestination } from '../../src/delivery/splunk-hec.ts';
import { createSyslogDestination } from '../../src/delivery/syslog.ts';
import type { AuditEntry } from '../../src/events/schema.ts';
import { makeCertificates } from '../fixtures/cluster.ts';
import { DatadogStandIn } from '../receivers/datadog-stand-in.ts';
import { startRsyslog, type Rsyslog } from '../receivers/rsyslog.ts';
import { SplunkHecStandIn } from '../receivers/splunk-hec-stand-in.ts';

const HOST = 'audit-test-host';
const deps = { allowPrivate: true, hostName: HOST };
const never = () => new AbortController().signal;

let seq = 0;
function entry(over: Partial<AuditEntry> = {}): AuditEntry {
  seq += 1;
  return {
    id: `evt_${String(seq).padStart(6, '0')}`,
    action: 'workflow.updated',
    resourceType: 'workflow',
    resourceId: `wf_${seq}`,
    resourceName: 'Nightly é 漢 ✓',
    description: `changed the schedule (${seq})`,
    actorId: 'usr_1',
    actorName: 'Ada',
    actorEmail: 'ada@example.com',
    workspaceId: 'ws_1',
    metadata: { before: '0 2 * * *', after: '0 3 * * *', nested: { line: 'a\nb' } },
    createdAt: new Date(Date.now() - 60_000 + seq).toISOString(),
    ...over,
  };
}
const batchOf = (entries: AuditEntry[]): Batch => ({
  id: `batch-${entries[0]!.id}`,
  orgId: 'org_dest',
  entries,
});

function expectFailure(r: SendResult): Extract<SendResult, { ok: false }> {
  expect(r.ok, JSON.stringify(r)).to.equal(false);
  return r as Extract<SendResult, { ok: false }>;
}

/** A raw HTTPS POST to a stand-in, to check the stand-in itself is as strict as its service. */
function rawPost(url: string, ca: string, headers: Record<string, string>, body: Buffer | string) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = https.request(url, { method: 'POST', ca, headers }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('push destinations against their receivers', function () {
  this.timeout(60_000);
  let dir: string;
  let ca: string;
  let wrongCa: string;
  let files: { ca: string; cert: string; key: string };
  const open: Destination[] = [];
  const track = (d: Destination) => (open.push(d), d);

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stream-dest-'));
    fs.mkdirSync(path.join(dir, 'right'));
    fs.mkdirSync(path.join(dir, 'wrong'));
    files = makeCertificates(path.join(dir, 'right'));
    ca = fs.readFileSync(files.ca, 'utf8');
    wrongCa = fs.readFileSync(makeCertificates(path.join(dir, 'wrong')).ca, 'utf8');
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((d) => d.close()));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  describe('Splunk HEC (contract stand-in)', () => {
    let hec: SplunkHecStandIn;
    afterEach(() => hec?.close());

    it('delivers a batch as HEC envelopes holding exactly the entries', async () => {
      hec = await SplunkHecStandIn.start(files, { token: 'hec-token', indexes: ['main', 'audit'] });
      const entries = [entry(), entry(), entry()];
      const dest = track(
        createSplunkHecDestination({ url: hec.url, token: 'hec-token', index: 'audit', ca }, deps),
      );
      const r = await dest.send(batchOf(entries), never());
      expect(r).to.deep.include({ ok: true });
      expect(hec.received.map((x) => x.envelope.event)).to.deep.equal(entries);
      const env = hec.received[0]!.envelope;
      expect(env).to.include({
        host: HOST,
        source: 'audit-log:org_dest',
        sourcetype: '_json',
        index: 'audit',
      });
      expect(env.time).to.equal(Date.parse(entries[0]!.createdAt) / 1000);
    });

    it('sends a batch above 1 MB as several requests, all received in order', async () => {
      hec = await SplunkHecStandIn.start(files, { token: 't' });
      const entries = Array.from({ length: 30 }, () => entry({ metadata: { blob: 'x'.repeat(60_000) } }));
      const r = await track(createSplunkHecDestination({ url: hec.url, token: 't', ca }, deps)).send(
        batchOf(entries),
        never(),
      );
      expect(r.ok).to.equal(true);
      expect(hec.http.requests).to.be.greaterThan(1);
      expect(hec.received.map((x) => (x.envelope.event as AuditEntry).id)).to.deep.equal(
        entries.map((e) => e.id),
      );
    });

    it('halves a request a receiver with a lower limit answers 413, until it goes through', async () => {
      hec = await SplunkHecStandIn.start(files, { token: 't', maxContentLength: 150_000 });
      const entries = Array.from({ length: 20 }, () => entry({ metadata: { blob: 'x'.repeat(30_000) } }));
      const dest = track(createSplunkHecDestination({ url: hec.url, token: 't', ca }, deps));
      expect((await dest.send(batchOf(entries), never())).ok).to.equal(true);
      expect(hec.received.map((x) => (x.envelope.event as AuditEntry).id)).to.deep.equal(
        entries.map((e) => e.id),
      );
      const big = entry({ metadata: { blob: 'x'.repeat(160_000) } });
      const r = expectFailure(await dest.send(batchOf([big]), never()));
      expect(r).to.include({ retryable: false, status: 413 });
    });

    it('with ack, answers ok only once every request of the batch is acknowledged', async () => {
      hec = await SplunkHecStandIn.start(files, { token: 't', ack: true, ackDelayMs: 700 });
      const dest = track(createSplunkHecDestination({ url: hec.url, token: 't', ack: true, ca }, deps));
      const started = Date.now();
      const r = await dest.send(batchOf([entry(), entry()]), never());
      expect(r.ok, JSON.stringify(r)).to.equal(true);
      expect(Date.now() - started).to.be.at.least(700);
      expect(hec.ackQueries).to.be.at.least(1);
      for (const x of hec.received) expect(hec.isAcked(x.channel!, x.ackId!)).to.equal(true);
      // One stable channel per destination.
      await dest.send(batchOf([entry()]), never());
      expect(new Set(hec.received.map((x) => x.channel)).size).to.equal(1);
    });

    it('with ack, a batch the indexer never acknowledges is not delivered (retryable)', async () => {
      hec = await SplunkHecStandIn.start(files, { token: 't', ack: true, ackDelayMs: 0 });
      hec.holdAcks = true;
      const dest = track(createSplunkHecDestination({ url: hec.url, token: 't', ack: true, ca }, deps));
      const r = expectFailure(await dest.send(batchOf([entry()]), AbortSignal.timeout(1500)));
      expect(r.retryable).to.equal(true);
      expect(r.error).to.match(/acknowledge/);
      expect(hec.received).to.have.length(1);
    });

    it('with ack, a HEC that restarted while the batch waited makes it retried, not failing', async () => {
      hec = await SplunkHecStandIn.start(files, { token: 't', ack: true, ackDelayMs: 5_000 });
      const dest = track(createSplunkHecDestination({ url: hec.url, token: 't', ack: true, ca }, deps));
      const sent = dest.send(batchOf([entry()]), never());
      while (hec.received.length === 0) await new Promise((r) => setTimeout(r, 10));
      hec.restart();
      const r = expectFailure(await sent);
      expect(r).to.include({ retryable: true, status: 400 });
      expect(r.error).to.match(/Invalid data channel/);
    });

    it('429 and 503 are retried after Retry-After; 401 and a wrong token are not', async () => {
      hec = await SplunkHecStandIn.start(files, { token: 'right' });
      const dest = track(createSplunkHecDestination({ url: hec.url, token: 'right', ca }, deps));
      hec.http.faults.push(
        { status: 429, retryAfter: 7 },
        { status: 503, body: { text: 'Server is busy', code: 9 } },
      );
      expect(expectFailure(await dest.send(batchOf([entry()]), never()))).to.deep.include({
        retryable: true,
        status: 429,
        retryAfterMs: 7000,
      });
      const busy = expectFailure(await dest.send(batchOf([entry()]), never()));
      expect(busy).to.include({ retryable: true, status: 503 });
      expect(busy.error).to.match(/Server is busy/);
      hec.http.faults.push({ status: 401, body: { text: 'Token is required', code: 2 } });
      expect(expectFailure(await dest.send(batchOf([entry()]), never()))).to.include({ retryable: false, status: 401 }); // prettier-ignore
      const wrong = track(createSplunkHecDestination({ url: hec.url, token: 'wrong', ca }, deps));
      const denied = expectFailure(await wrong.send(batchOf([entry()]), never()));
      expect(denied).to.include({ retryable: false, status: 403 });
      expect(denied.error)
        .to.match(/Invalid token/)
        .and.not.match(/wrong/);
      expect(hec.received).to.have.length(0);
    });

    it('a slow, hung-up or stopped receiver is retried; the same destination delivers once it is back', async () => {
      hec = await SplunkHecStandIn.start(files, { token: 't' });
      const dest = track(createSplunkHecDestination({ url: hec.url, token: 't', ca }, deps));
      hec.http.faults.push({ delayMs: 3_000 }, { hangUp: true });
      const slow = expectFailure(await dest.send(batchOf([entry()]), AbortSignal.timeout(500)));
      expect(slow).to.include({ retryable: true });
      expect(slow.error).to.match(/deadline/);
      const hungUp = expectFailure(await dest.send(batchOf([entry()]), never()));
      expect(hungUp.retryable, hungUp.error).to.equal(true);
      const port = Number(new URL(hec.url).port);
      await hec.close();
      const down = expectFailure(await dest.send(batchOf([entry()]), never()));
      expect(down.retryable).to.equal(true);
      expect(down.error).to.match(/ECONNREFUSED/);
      hec = await SplunkHecStandIn.start(files, { token: 't' }, port);
      const e = entry();
      expect((await dest.send(batchOf([e]), never())).ok).to.equal(true);
      expect(hec.received.map((x) => x.envelope.event)).to.deep.equal([e]);
    });

    it('the stand-in refuses what HEC refuses', async () => {
      hec = await SplunkHecStandIn.start(files, { token: 't', ack: true });
      const at = `${hec.url}/services/collector/event`;
      const ok = {
        Authorization: 'Splunk t',
        'X-Splunk-Request-Channel': '11111111-2222-3333-4444-555555555555',
      };
      const cases: Array<[Record<string, string>, string, number, number]> = [
        [{}, '{"event":1}', 401, 2],
        [{ Authorization: 'Bearer t' }, '{"event":1}', 401, 3],
        [{ ...ok, Authorization: 'Splunk nope' }, '{"event":1}', 403, 4],
        [{ Authorization: 'Splunk t' }, '{"event":1}', 400, 10],
        [ok, '{"event":1}{"event":', 400, 6],
        [ok, '{"time":1}', 400, 12],
        [ok, '{"event":""}', 400, 13],
        [ok, '{"event":1,"extra":2}', 400, 6],
        [ok, '{"event":1,"index":"secret"}', 400, 7],
        [ok, '', 400, 5],
      ];
      for (const [headers, body, status, code] of cases) {
        const r = await rawPost(at, ca, headers, body);
        expect([r.status, JSON.parse(r.body).code], `${JSON.stringify(headers)} ${body}`).to.deep.equal([status, code]); // prettier-ignore
      }
      expect((await rawPost(at, ca, ok, `{"event":"${'x'.repeat(1_000_001)}"}`)).status).to.equal(413);
      expect(hec.received).to.have.length(0);
    });

    it('refuses a loopback receiver unless private addresses are allowed, naming why', async () => {
      hec = await SplunkHecStandIn.start(files, { token: 't' });
      for (const url of [hec.url, hec.url.replace('localhost', '127.0.0.1')]) {
        const dest = track(
          createSplunkHecDestination({ url, token: 't', ca }, { ...deps, allowPrivate: false }),
        );
        const r = expectFailure(await dest.send(batchOf([entry()]), never()));
        expect(r.retryable).to.equal(false);
        expect(r.error).to.match(/127\.0\.0\.1.*loopback/);
      }
      expect(hec.http.requests).to.equal(0);
    });

    it('does not deliver to a receiver whose certificate another CA signed', async () => {
      hec = await SplunkHecStandIn.start(files, { token: 't' });
      const dest = track(createSplunkHecDestination({ url: hec.url, token: 't', ca: wrongCa }, deps));
      const r = expectFailure(await dest.send(batchOf([entry()]), never()));
      expect(r.retryable).to.equal(false);
      expect(r.error).to.match(/certificate/);
      expect(hec.http.requests).to.equal(0);
    });
  });

  describe('Datadog (contract stand-in)', () => {
    let dd: DatadogStandIn;
    afterEach(() => dd?.close());

    it('delivers a batch as gzip JSON logs whose message is each entry', async () => {
      dd = await DatadogStandIn.start(files, 'dd-key');
      const entries = [entry(), entry()];
      const dest = track(
        createDatadogDestination(
          { url: dd.url, apiKey: 'dd-key', service: 'acme-audit', tags: ['env:test'], ca },
          deps,
        ),
      );
      expect(dest.maxBatch).to.equal(1000);
      expect((await dest.send(batchOf(entries), never())).ok).to.equal(true);
      expect(dd.received.map((l) => JSON.parse(l.message))).to.deep.equal(entries);
      expect(dd.received[0]).to.deep.include({
        ddsource: 'audit-log',
        service: 'acme-audit',
        ddtags: 'org_id:org_dest,env:test',
        hostname: HOST,
        timestamp: Date.parse(entries[0]!.createdAt),
      });
      expect(dd.received[0]!.audit).to.deep.include({ id: entries[0]!.id, createdAt: entries[0]!.createdAt });
    });

    it('an event older than Datadog accepts keeps its own time in audit.createdAt, without a timestamp', async () => {
      dd = await DatadogStandIn.start(files, 'k');
      const old = entry({ createdAt: new Date(Date.now() - 3 * 86_400_000).toISOString() });
      const recent = entry();
      const r = await track(createDatadogDestination({ url: dd.url, apiKey: 'k', ca }, deps)).send(
        batchOf([old, recent]),
        never(),
      );
      expect(r.ok, JSON.stringify(r)).to.equal(true);
      const [a, b] = dd.received;
      expect(a).not.to.have.property('timestamp');
      expect(a!.audit).to.deep.include({ createdAt: old.createdAt });
      expect(b!.timestamp).to.equal(Date.parse(recent.createdAt));
    });

    it('splits a batch above 5 MB into accepted requests; a failed part fails the batch', async () => {
      dd = await DatadogStandIn.start(files, 'k');
      const entries = Array.from({ length: 1000 }, () => entry({ metadata: { blob: 'y'.repeat(6_000) } }));
      const dest = track(createDatadogDestination({ url: dd.url, apiKey: 'k', ca }, deps));
      expect((await dest.send(batchOf(entries), never())).ok).to.equal(true);
      expect(dd.accepted).to.be.greaterThan(1);
      expect(dd.received.map((l) => (l.audit as { id: string }).id)).to.deep.equal(entries.map((e) => e.id));
      dd.received.length = 0;
      // The first part is accepted, the second answered 503: the batch is not delivered and will be re-sent.
      dd.http.faults.push('pass', { status: 503 });
      const sent = dest.send(batchOf(entries), never());
      const r = expectFailure(await sent);
      expect(r).to.include({ retryable: true, status: 503 });
      expect(dd.received.length).to.be.greaterThan(0).and.lessThan(1000);
    });

    it('halves a request a proxy with a lower limit answers 413', async () => {
      dd = await DatadogStandIn.start(files, 'k', 0, 100_000);
      const entries = Array.from({ length: 40 }, () => entry({ metadata: { blob: 'y'.repeat(10_000) } }));
      const dest = track(createDatadogDestination({ url: dd.url, apiKey: 'k', ca }, deps));
      expect((await dest.send(batchOf(entries), never())).ok).to.equal(true);
      expect(dd.received.map((l) => (l.audit as { id: string }).id)).to.deep.equal(entries.map((e) => e.id));
    });

    it('429 with Retry-After is retryable; a wrong API key is not', async () => {
      dd = await DatadogStandIn.start(files, 'right');
      dd.http.faults.push({ status: 429, retryAfter: 3 });
      const dest = track(createDatadogDestination({ url: dd.url, apiKey: 'right', ca }, deps));
      expect(expectFailure(await dest.send(batchOf([entry()]), never()))).to.deep.include({
        retryable: true,
        status: 429,
        retryAfterMs: 3000,
      });
      const wrong = track(createDatadogDestination({ url: dd.url, apiKey: 'nope', ca }, deps));
      expect(expectFailure(await wrong.send(batchOf([entry()]), never()))).to.include({ retryable: false, status: 403 }); // prettier-ignore
      expect(dd.received).to.have.length(0);
    });

    it('the stand-in refuses what the intake refuses', async () => {
      dd = await DatadogStandIn.start(files, 'k');
      const at = `${dd.url}/api/v2/logs`;
      const log = { ddsource: 's', service: 's', ddtags: 't', hostname: 'h', message: 'm' };
      const json = { 'DD-API-KEY': 'k', 'Content-Type': 'application/json' };
      const gz = (v: unknown) => zlib.gzipSync(JSON.stringify(v));
      const cases: Array<[Record<string, string>, Buffer | string, number]> = [
        [{ 'Content-Type': 'application/json' }, JSON.stringify([log]), 401],
        [{ ...json, 'DD-API-KEY': 'x' }, JSON.stringify([log]), 403],
        [json, '[{"message":', 400],
        [json, JSON.stringify([{ ...log, hostname: undefined }]), 400],
        [{ ...json, 'Content-Encoding': 'br' }, gz([log]), 415],
        [{ ...json, 'Content-Encoding': 'gzip' }, JSON.stringify([log]), 400],
        [{ ...json, 'Content-Encoding': 'gzip' }, gz(Array.from({ length: 1001 }, () => log)), 413],
        [{ ...json, 'Content-Encoding': 'gzip' }, gz([{ ...log, message: 'z'.repeat(5_000_000) }]), 413],
        [json, JSON.stringify([{ ...log, timestamp: Date.now() - 19 * 3600_000 }]), 400],
      ];
      for (const [headers, body, status] of cases) {
        expect((await rawPost(at, ca, headers, body)).status, JSON.stringify(headers)).to.equal(status);
      }
      expect(dd.received).to.have.length(0);
    });
  });

  describe('syslog over TLS (rsyslog)', () => {
    let rsyslog: Rsyslog | undefined;
    afterEach(async () => {
      await rsyslog?.stop();
      rsyslog = undefined;
    });

    it('rsyslog receives one valid RFC 5424 message per entry, holding exactly the entry', async () => {
      const rdir = fs.mkdtempSync(path.join(dir, 'rsyslog-'));
      rsyslog = await startRsyslog(rdir, files);
      const dest = track(createSyslogDestination({ host: 'localhost', port: rsyslog.port, ca }, deps));
      // About the largest entry ingest lets through (16 KiB of metadata), in characters escaping triples.
      const largest = entry({
        description: 'ü'.repeat(2000),
        resourceName: 'ü'.repeat(512),
        metadata: { k: 'ü'.repeat(8_185) },
      });
      const entries = [entry(), entry({ action: 'a'.repeat(40) }), largest];
      expect((await dest.send(batchOf(entries), never())).ok).to.equal(true);
      const more = [entry()];
      expect((await dest.send(batchOf(more), never())).ok).to.equal(true);
      const lines = await rsyslog.waitFor(4);
      const header =
        /^<110>1 (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?(?:Z|[+-]\d\d:\d\d)) ([\x21-\x7e]{1,255}) ([\x21-\x7e]{1,48}) ([\x21-\x7e]{1,128}) ([\x21-\x7e]{1,32}) (-|\[.*?\]) (.*)$/;
      const parsed = lines.map((line) => {
        const m = header.exec(line);
        expect(m, line.slice(0, 200)).to.not.equal(null);
        return { time: m![1], host: m![2], app: m![3], msgid: m![5], msg: m![7]! };
      });
      expect(parsed.map((p) => JSON.parse(p.msg))).to.deep.equal([...entries, ...more]);
      expect(parsed[0]).to.include({ time: entries[0]!.createdAt, host: HOST, app: 'audit-log', msgid: 'workflow.updated' }); // prettier-ignore
      expect(parsed[1]!.msgid).to.equal('-');
      expect(lines).to.have.length(4);
    });

    it('frames each message with its exact octet count', async () => {
      const chunks: Buffer[] = [];
      const server = tls.createServer(
        { cert: fs.readFileSync(files.cert), key: fs.readFileSync(files.key) },
        (s) => s.on('data', (c: Buffer) => chunks.push(c)),
      );
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      try {
        const port = (server.address() as AddressInfo).port;
        const entries = [entry(), entry({ description: '多字节 ✓ ü' }), entry()];
        const dest = track(createSyslogDestination({ host: 'localhost', port, ca }, deps));
        expect((await dest.send(batchOf(entries), never())).ok).to.equal(true);
        await new Promise((r) => setTimeout(r, 200));
        const data = Buffer.concat(chunks);
        const messages: string[] = [];
        for (let at = 0; at < data.length;) {
          const space = data.indexOf(0x20, at);
          const len = data.subarray(at, space).toString('ascii');
          expect(len).to.match(/^[1-9]\d*$/);
          messages.push(data.subarray(space + 1, space + 1 + Number(len)).toString('utf8'));
          at = space + 1 + Number(len);
          expect(at).to.be.at.most(data.length);
        }
        expect(messages.map((m) => JSON.parse(m.slice(m.indexOf(' - {') + 3)))).to.deep.equal(entries);
      } finally {
        server.close();
      }
    });

    it('opens a new connection after the receiver dropped the last one', async () => {
      const rdir = fs.mkdtempSync(path.join(dir, 'rsyslog-'));
      rsyslog = await startRsyslog(rdir, files);
      const dest = track(createSyslogDestination({ host: 'localhost', port: rsyslog.port, ca }, deps));
      expect((await dest.send(batchOf([entry()]), never())).ok).to.equal(true);
      await rsyslog.waitFor(1);
      await rsyslog.stop();
      // The service learns of the closed connection from its socket (syslog has no acks to tell it sooner).
      await new Promise((r) => setTimeout(r, 200));
      const down = expectFailure(await dest.send(batchOf([entry()]), never()));
      expect(down.retryable).to.equal(true);
      rsyslog = await startRsyslog(fs.mkdtempSync(path.join(dir, 'rsyslog-')), files, rsyslog.port);
      const e = entry();
      expect((await dest.send(batchOf([e]), never())).ok).to.equal(true);
      expect(JSON.parse((await rsyslog.waitFor(1))[0]!.split(' - ')[2]!)).to.deep.equal(e);
    });

    it('does not deliver to a receiver whose certificate another CA signed', async () => {
      rsyslog = await startRsyslog(fs.mkdtempSync(path.join(dir, 'rsyslog-')), files);
      const dest = track(
        createSyslogDestination({ host: 'localhost', port: rsyslog.port, ca: wrongCa }, deps),
      );
      const r = expectFailure(await dest.send(batchOf([entry()]), never()));
      expect(r.retryable).to.equal(false);
      expect(r.error).to.match(/certificate/);
    });

    it('refuses a loopback receiver unless private addresses are allowed, naming why', async () => {
      rsyslog = await startRsyslog(fs.mkdtempSync(path.join(dir, 'rsyslog-')), files);
      for (const host of ['localhost', '127.0.0.1']) {
        const dest = track(
          createSyslogDestination({ host, port: rsyslog.port, ca }, { ...deps, allowPrivate: false }),
        );
        const r = expectFailure(await dest.send(batchOf([entry()]), never()));
        expect(r.retryable).to.equal(false);
        expect(r.error).to.match(/127\.0\.0\.1.*loopback/);
      }
      await new Promise((r) => setTimeout(r, 200));
      expect(rsyslog.messages()).to.have.length(0);
    });
  });
});
