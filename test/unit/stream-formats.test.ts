import { expect } from 'chai';
import { createDatadogDestination, DatadogSettings, datadogLog } from '../../src/delivery/datadog.ts';
import { failedAnswer, packBySize, retryAfterMs } from '../../src/delivery/https-post.ts';
import { createSplunkHecDestination, SplunkHecSettings } from '../../src/delivery/splunk-hec.ts';
import { octetFrame, syslogMessage, SyslogSettings } from '../../src/delivery/syslog.ts';
import type { AuditEntry } from '../../src/events/schema.ts';
import { validator } from '../../src/validation.ts';

const entry = (createdAt: string, over: Partial<AuditEntry> = {}): AuditEntry => ({
  id: 'evt_1',
  action: 'api_key.created',
  resourceType: 'api_key',
  resourceId: null,
  resourceName: null,
  description: 'Schlüssel erstellt 🔑',
  actorId: null,
  actorName: null,
  actorEmail: null,
  workspaceId: null,
  metadata: {},
  createdAt,
  ...over,
});

describe('push stream formats', () => {
  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-12-04T12:00:00Z');
    expect(retryAfterMs({ 'retry-after': '120' }, now)).to.equal(120_000);
    expect(retryAfterMs({ 'retry-after': 'Fri, 04 Dec 2026 12:00:30 GMT' }, now)).to.equal(30_000);
    expect(retryAfterMs({ 'retry-after': 'soon' }, now)).to.equal(undefined);
    expect(retryAfterMs({}, now)).to.equal(undefined);
  });

  it('retries 408, 429 and 5xx answers, not the other 4xx', () => {
    const answer = (status: number) => failedAnswer({ status, headers: {}, body: 'no' }, 'R');
    for (const s of [408, 429, 500, 502, 503]) expect(answer(s), String(s)).to.include({ retryable: true });
    for (const s of [301, 400, 401, 403, 404, 413])
      expect(answer(s), String(s)).to.include({ retryable: false });
    expect(answer(404).ok ? '' : answer(404)).to.include({
      error: 'R answered 404 (the receiver has no such endpoint): no',
    });
    expect(answer(425)).to.include({ retryable: true });
  });

  it('packs items in order under both a count and a byte limit', () => {
    expect(packBySize(['a', 'b', 'c', 'd', 'e'], 1000, 2)).to.deep.equal([['a', 'b'], ['c', 'd'], ['e']]);
    // `[` + 3 bytes per item with its separator: 'xx,' 'yy,' … ; 7 bytes fit two items.
    expect(packBySize(['xx', 'yy', 'zz'], 7, 10)).to.deep.equal([['xx', 'yy'], ['zz']]);
    expect(packBySize(['é'.repeat(3)], 4, 10)).to.deep.equal([['ééé']]);
    expect(packBySize(['big'.repeat(10), 's'], 5, 10)).to.deep.equal([['big'.repeat(10)], ['s']]);
  });

  it('gives Datadog a timestamp only inside the window it accepts', () => {
    const now = Date.parse('2026-12-04T12:00:00Z');
    const at = (msAgo: number) => datadogLog(entry(new Date(now - msAgo).toISOString()), 'o', { url: 'https://x', apiKey: 'k' }, 'h', now); // prettier-ignore
    expect(at(17 * 3600_000)).to.have.property('timestamp', now - 17 * 3600_000);
    expect(at(18 * 3600_000)).not.to.have.property('timestamp');
    expect(at(-3 * 3600_000)).not.to.have.property('timestamp');
    expect(at(18 * 3600_000).audit).to.deep.include({
      createdAt: new Date(now - 18 * 3600_000).toISOString(),
    });
  });

  it('writes syslog messages in ASCII with header fields RFC 5424 allows', () => {
    const msg = syslogMessage(entry('2026-12-04T12:00:00.000Z'), 'my host ✓');
    expect(msg).to.match(/^<110>1 2026-12-04T12:00:00\.000Z my-host-- audit-log - api_key\.created - \{/);
    expect(/^[\x20-\x7e]*$/.test(msg)).to.equal(true);
    expect(JSON.parse(msg.slice(msg.indexOf('{')))).to.deep.equal(entry('2026-12-04T12:00:00.000Z'));
    const frame = octetFrame('<110>1 é');
    expect(frame.toString('utf8')).to.equal('9 <110>1 é');
  });
});

describe('push destination settings', () => {
  const hec = validator(SplunkHecSettings);
  const dd = validator(DatadogSettings);
  const syslog = validator(SyslogSettings);

  it('take the documented settings', () => {
    for (const url of [
      'https://a.example:8088/',
      'https://[::1]:8088/x/y',
      'https://splunk:65535',
      'https://h.example.',
    ]) {
      expect(() => hec({ url, token: 't' }), url).not.to.throw();
      expect(() => new URL(url), url).not.to.throw();
    }
    expect(() => hec({ url: 'https://splunk.example.com:8088', token: 't', index: 'audit', sourcetype: '_json', ack: true })).not.to.throw(); // prettier-ignore
    expect(() => dd({ url: 'https://http-intake.logs.datadoghq.eu', apiKey: 'k', service: 's', tags: ['env:prod'] })).not.to.throw(); // prettier-ignore
    expect(() => syslog({ host: 'syslog.example.com', port: 6514, ca: '-----BEGIN CERTIFICATE-----\nx' })).not.to.throw(); // prettier-ignore
  });

  it('make a destination that fails, never throws, for a URL only the URL parser refuses', async () => {
    const url = 'https://[:::]:8088';
    expect(() => hec({ url, token: 't' })).not.to.throw();
    const deps = { allowPrivate: false, hostName: 'h' };
    for (const dest of [
      createSplunkHecDestination({ url, token: 't' }, deps),
      createDatadogDestination({ url, apiKey: 'k' }, deps),
    ]) {
      const r = await dest.send(
        { id: 'b', orgId: 'o', entries: [entry('2026-12-04T12:00:00Z')] },
        new AbortController().signal,
      );
      expect(r).to.deep.equal({ ok: false, retryable: false, error: `url is not a valid URL: ${url}` });
    }
  });

  it('refuse plain HTTP, unknown fields and tags Datadog would split', () => {
    const param = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        return (err as { param?: string }).param;
      }
      return 'accepted';
    };
    expect(param(() => hec({ url: 'http://splunk.example.com:8088', token: 't' }))).to.equal('url');
    expect(param(() => dd({ url: 'https://x', apiKey: 'k', site: 'eu' }))).to.equal('site');
    expect(param(() => dd({ url: 'https://x', apiKey: 'k', tags: ['a:b,c:d'] }))).to.equal('tags.0');
    expect(param(() => hec({ url: 'https://user:secret@splunk.example.com', token: 't' }))).to.equal('url');
    expect(param(() => hec({ url: 'https://splunk.example.com:65536', token: 't' }))).to.equal('url');
    expect(param(() => hec({ url: 'https://spl unk', token: 't' }))).to.equal('url');
    expect(
      param(() => dd({ url: 'https://http-intake.logs.datadoghq.com/api/v2/logs', apiKey: 'k' })),
    ).to.equal('url');
    expect(param(() => syslog({ host: 'h', port: 0 }))).to.equal('port');
    expect(param(() => syslog({ host: 'h', port: 6514, ca: 'not a pem' }))).to.equal('ca');
  });
});
