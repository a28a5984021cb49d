/** The pure parts of push-stream delivery: backoff, Retry-After, answer classes, S3 keys, sealed secrets, config. */
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { refusal } from '../../src/delivery/address-guard.ts';
import { checkedUrl, resultOf } from '../../src/delivery/guarded-http.ts';
import { objectKey } from '../../src/delivery/s3.ts';
import { StreamSecrets } from '../../src/delivery/stream-secrets.ts';
import { backoffMs, batchId } from '../../src/delivery/stream-worker.ts';
import type { AuditEntry } from '../../src/events/schema.ts';

const entry = (id: string, createdAt: string) => ({ id, createdAt }) as AuditEntry;

describe('push stream delivery', () => {
  it('backs off exponentially with jitter, capped, never sooner than Retry-After', () => {
    for (let i = 0; i < 50; i++) {
      const first = backoffMs(1, 300_000);
      expect(first).to.be.within(500, 1000);
      const fifth = backoffMs(5, 300_000);
      expect(fifth).to.be.within(8000, 16_000);
      expect(backoffMs(40, 300_000)).to.be.within(150_000, 300_000);
      expect(backoffMs(1, 300_000, 7000)).to.equal(7000);
    }
    const samples = new Set(Array.from({ length: 20 }, () => Math.round(backoffMs(3, 300_000))));
    expect(samples.size, 'jittered').to.be.greaterThan(1);
  });

  it('retries 408, 429 and 5xx; stops on 401, 403, 404 naming the cause', () => {
    const reply = (status: number, headers = {}) =>
      resultOf({ status, headers, body: 'nope' }, 'the webhook');
    expect(reply(204)).to.deep.equal({ ok: true, reply: '204 nope' });
    expect(reply(429, { 'retry-after': '2' })).to.include({ ok: false, retryable: true, retryAfterMs: 2000 });
    expect(reply(503)).to.include({ retryable: true });
    expect(reply(408)).to.include({ retryable: true });
    expect(reply(401)).to.include({
      retryable: false,
      error: 'the webhook answered 401 (the receiver refused the credentials): nope',
    });
    expect(reply(404)).to.include({ retryable: false });
    expect(reply(400)).to.include({ retryable: false });
  });

  it('refuses plain http and private literals unless allowed; metadata always', () => {
    expect(() => checkedUrl('http://example.com/h', false)).to.throw(/https/);
    expect(checkedUrl('http://example.com/h', true).host).to.equal('example.com');
    expect(() => checkedUrl('https://10.1.2.3/h', false)).to.throw(/private/);
    expect(() => checkedUrl('https://[::1]/h', false)).to.throw(/loopback/);
    expect(checkedUrl('https://10.1.2.3/h', true).hostname).to.equal('10.1.2.3');
    expect(() => checkedUrl('https://169.254.169.254/latest', true)).to.throw(/metadata/);
    expect(refusal('::ffff:127.0.0.1', false)).to.match(/loopback/);
    expect(refusal('93.184.216.34', false)).to.equal(undefined);
  });

  it('names a batch by stream and first position, and its S3 object by org, hour and first and last id', () => {
    const a = { id: 'str_a', filter: {} };
    const at = { seq: 3, leaf: 7 };
    expect(batchId(a, at)).to.equal(batchId({ ...a }, { ...at }));
    expect(batchId(a, at)).not.to.equal(batchId(a, { seq: 3, leaf: 8 }));
    expect(batchId(a, at)).not.to.equal(batchId({ ...a, id: 'str_b' }, at));
    expect(batchId(a, at)).not.to.equal(batchId({ ...a, filter: { actions: ['workflow.*'] } }, at));
    expect(batchId(a, at)).not.to.equal(batchId({ ...a, replayedAt: '2026-12-04T10:00:00.000Z' }, at));
    const batch = {
      id: 'x',
      orgId: 'acme',
      entries: [entry('e1', '2026-12-04T09:59:59.000Z'), entry('e9', '2026-12-04T11:00:00.000Z')],
    };
    expect(objectKey('audit/', batch)).to.equal('audit/acme/2026/12/04/09/e1-e9.ndjson.gz');
    expect(objectKey(undefined, batch)).to.equal('acme/2026/12/04/09/e1-e9.ndjson.gz');
  });

  it('seals secrets so that only the same stream with the same key opens them', () => {
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-state-'));
    const cfg = loadConfig({ AUDIT_STATE_DIR: stateDir });
    const secrets = new StreamSecrets(cfg);
    const sealed = secrets.seal('str_1', { secret: 'whsec_abc' });
    expect(JSON.stringify(sealed)).not.to.include('whsec_abc');
    expect(new StreamSecrets(cfg).open('str_1', sealed)).to.deep.equal({ secret: 'whsec_abc' });
    expect(() => secrets.open('str_2', sealed)).to.throw();
    const other = new StreamSecrets(loadConfig({ AUDIT_STREAM_KEY: Buffer.alloc(32, 1).toString('base64') }));
    expect(() => other.open('str_1', sealed)).to.throw();
    expect(fs.statSync(path.join(stateDir, 'stream-key')).mode & 0o777).to.equal(0o600);
  });

  it('reads the stream settings with their defaults and names a bad one', () => {
    const s = loadConfig({}).streams;
    expect(s).to.deep.include({ allowPrivate: false, disableAfterMs: 72 * 3_600_000, leaseMs: 15_000 });
    expect(loadConfig({ AUDIT_STREAM_ALLOW_PRIVATE: 'true' }).streams.allowPrivate).to.equal(true);
    expect(() => loadConfig({ AUDIT_STREAM_DISABLE_AFTER_HOURS: 'x' })).to.throw(
      ConfigError,
      /AUDIT_STREAM_DISABLE_AFTER_HOURS/,
    );
    expect(() => loadConfig({ AUDIT_STREAM_KEY: 'short' })).to.throw(ConfigError, /AUDIT_STREAM_KEY/);
  });
});
