/**
 * Hostile input against the real engine: bodies JSON.parse would silently change (repeated keys, numbers a
 * double cannot keep), keys that make the OpenSearch client refuse every later answer (`__proto__`,
 * `constructor.prototype`), nesting that used to exhaust the stack, broken encodings and numbers-that-are-not
 * in the query string. Each is a 4xx naming what is at fault ({ error, code, param }); nothing is written; and
 * every reader still answers afterwards.
 * A single event is refused with 400 invalid_event; in a batch ({ "events": [...] } or NDJSON) the hostile
 * event is rejected by position like any invalid event (207) and the others are written; a problem outside the
 * events (the body itself) refuses the whole request with 400 invalid_body.
 */
import { expect } from 'chai';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import { buildApp } from '../../src/app.ts';
import { freePort } from '../../scripts/lib/engine/engine.ts';
import { MAX_DEPTH } from '../../src/json-scan.ts';
import { verifyOrg } from '../../src/integrity/verify.ts';
import { loadSigningKey } from '../../src/integrity/signing.ts';
import { createStore } from '../../src/store/client.ts';
import { INTERNAL } from '../../src/store/names.ts';
import { createPageOrg, startPageService, type PageOrg, type PageService } from '../fixtures/page.ts';
import { seedIngestKey, uniqueId } from '../helpers.ts';
import { ledgerEntry, type Posted } from '../fixtures/ingest.ts';

const OPERATOR_TOKEN = 'page-test-operator-token'; // startPageService's
const nest = (levels: number, open: string, close: string, inner = '1') =>
  open.repeat(levels) + inner + close.repeat(levels);

/** One hostile event: its text (one line) and what the refusal must name. */
interface Case {
  name: string;
  ids: string[];
  text: string;
  param: string;
  message: RegExp;
}

describe('hostile input: a 4xx naming the field, nothing written, readers unharmed', function () {
  this.timeout(120_000);
  let service: PageService;
  let org: PageOrg;
  let ingestKey: string;
  const run = uniqueId('h');
  const good: string[] = [];

  const event = (id: string, rest = '') =>
    `{"id":"${id}","action":"workflow.created","resourceType":"workflow","resourceName":"${run}"${rest}}`;
  const meta = (id: string, metadata: string) => event(id, `,"metadata":${metadata}`);

  let n = 0;
  /** A case whose event carries `rest` after the base fields. */
  const c = (name: string, param: string, message: RegExp, build: (id: string) => string): Case => {
    const id = `${run}-${++n}`;
    return { name, ids: [id], text: build(id), param, message };
  };
  const PROTO = /"__proto__" is not accepted as a key/;
  const CTOR = /a "constructor" key holding null or an object with a "prototype" key is not accepted/;
  const DEEP = new RegExp(
    `deeper than ${MAX_DEPTH} levels \\(metadata itself is level 1\\); at most ${MAX_DEPTH}`,
  );
  const TWICE = /is given twice in the same object/;
  const dupId = `${run}-dup`;
  const CASES: Case[] = [
    c('__proto__ in metadata', 'metadata.__proto__', PROTO, (id) => meta(id, '{"__proto__":{"polluted":1}}')),
    c('__proto__ deep in metadata', 'metadata.a.b.__proto__', PROTO, (id) =>
      meta(id, '{"a":{"b":{"__proto__":{}}}}'),
    ),
    c('__proto__ inside an array', 'metadata.list[1].__proto__', PROTO, (id) =>
      meta(id, '{"list":[1,{"__proto__":null}]}'),
    ),
    c('__proto__ spelt with \\u escapes', 'metadata.__proto__', PROTO, (id) =>
      meta(id, '{"\\u005f_proto__":1}'),
    ),
    c('__proto__ as a top-level event key', '__proto__', PROTO, (id) =>
      event(id, ',"__proto__":{"polluted":1}'),
    ),
    c('constructor.prototype in metadata', 'metadata.constructor', CTOR, (id) =>
      meta(id, '{"constructor":{"prototype":{"p":1}}}'),
    ),
    c('constructor.prototype in an array', 'metadata.a[0].constructor', CTOR, (id) =>
      meta(id, '{"a":[{"constructor":{"prototype":{}}}]}'),
    ),
    c('constructor: null', 'metadata.constructor', CTOR, (id) => meta(id, '{"constructor":null}')),
    c('constructor as a top-level event key', 'constructor', CTOR, (id) =>
      event(id, ',"constructor":{"prototype":{}}'),
    ),
    c('metadata nested 10,000 objects deep', `metadata${'.a'.repeat(MAX_DEPTH)}`, DEEP, (id) =>
      meta(id, nest(10_000, '{"a":', '}')),
    ),
    c('metadata holding 8,000 nested arrays', `metadata.x${'[0]'.repeat(MAX_DEPTH - 1)}`, DEEP, (id) =>
      meta(id, `{"x":${nest(8_000, '[', ']', '')}}`),
    ),
    c('5,000 nested arrays in a string field', `actorName${'[0]'.repeat(MAX_DEPTH)}`, DEEP, (id) =>
      event(id, `,"actorName":${nest(5_000, '[', ']', '')}`),
    ),
    c('1e309 (Infinity)', 'metadata.n', /is 1e309, beyond the range/, (id) => meta(id, '{"n":1e309}')),
    c('-1e309', 'metadata.n', /is -1e309, beyond the range/, (id) => meta(id, '{"n":-1e309}')),
    c('1e-400 (becomes 0)', 'metadata.n', /is 1e-400, too close to 0/, (id) => meta(id, '{"n":1e-400}')),
    c('9007199254740993 (2^53 + 1)', 'metadata.n', /an integer beyond ±9007199254740991/, (id) =>
      meta(id, '{"n":9007199254740993}'),
    ),
    c('an integer of 30 digits in an array', 'metadata.n[0]', /an integer beyond/, (id) =>
      meta(id, '{"n":[123456789012345678901234567890]}'),
    ),
    c('0.1000000000000000000001 (too many digits)', 'metadata.n', /stored as 0\.1\)/, (id) =>
      meta(id, '{"n":0.1000000000000000000001}'),
    ),
    c('a key twice in metadata', 'metadata.a.k', TWICE, (id) => meta(id, '{"a":{"k":1,"k":2}}')),
    c('a key twice, once with \\u escapes', 'metadata.k', TWICE, (id) => meta(id, '{"k":1,"\\u006b":2}')),
    c('a top-level field twice', 'resourceName', TWICE, (id) => event(id, ',"resourceName":"other"')),
    {
      name: 'the id twice ({"id":"c7b","id":"c7c"})',
      ids: [`${dupId}-b`, `${dupId}-c`],
      text: `{"id":"${dupId}-b","id":"${dupId}-c","action":"workflow.created","resourceType":"workflow"}`,
      param: 'id',
      message: TWICE,
    },
  ];

  const api = (path: string) => `${service.url}/api/v1/audit-logs${path}`;
  async function send(
    url: string,
    body: string | Buffer,
    headers: Record<string, string>,
    method = 'POST',
  ): Promise<Posted> {
    const res = await fetch(url, {
      method,
      headers,
      body: typeof body === 'string' ? body : new Uint8Array(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
  }
  const post = (body: string | Buffer, type = 'application/json', extra: Record<string, string> = {}) =>
    send(api(''), body, { authorization: `Bearer ${ingestKey}`, 'content-type': type, ...extra });
  const read = async (path: string) => {
    const res = await fetch(api(path), { headers: { authorization: `Bearer ${org.owner.key}` } });
    return { status: res.status, headers: res.headers, text: await res.text() };
  };

  async function expectNotWritten(ids: string[]) {
    for (const id of ids) {
      expect(await ledgerEntry(service.store, org.orgId, id), id).to.equal(undefined);
      expect((await read(`/${encodeURIComponent(id)}`)).status, id).to.equal(404);
    }
  }
  async function expectCreated(res: { status: number; body: any }, index: number, id: string) {
    expect(res.body.results[index], JSON.stringify(res.body)).to.deep.equal({ id, status: 'created' });
    good.push(id);
  }

  before(async () => {
    service = await startPageService();
    org = await createPageOrg(service.ctx);
    ingestKey = await seedIngestKey(service.ctx, org.orgId);
  });
  after(() => service.close());

  describe('one event → 400 invalid_event naming the path', () => {
    for (const k of CASES) {
      it(k.name, async () => {
        const res = await post(k.text);
        expect(res.status, JSON.stringify(res.body)).to.equal(400);
        expect(res.body.code).to.equal('invalid_event');
        expect(res.body.param).to.equal(k.param);
        expect(res.body.error.startsWith(k.param), res.body.error).to.equal(true);
        expect(res.body.error).to.match(k.message);
        await expectNotWritten(k.ids);
      });
    }

    it('numbers written otherwise that keep their value pass (5.0, 1e2, -0, 2^53 - 1, 0.1)', async () => {
      const id = `${run}-same-numbers`;
      const res = await post(meta(id, '{"a":5.0,"b":1e2,"c":-0,"d":9007199254740991,"e":0.1,"f":[1.5e-7]}'));
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      good.push(id);
      await service.store.indices.refresh({ index: 'audit-logs-*' });
      const got = await read(`/${id}`);
      expect(got.status, got.text).to.equal(200);
      expect(JSON.parse(got.text).metadata).to.deep.equal({
        a: 5,
        b: 100,
        c: 0,
        d: 9007199254740991,
        e: 0.1,
        f: [1.5e-7],
      });
    });
  });

  describe('a batch → 207: each hostile event rejected by position naming the path, the others written', () => {
    it('{ "events": [...] }', async () => {
      const first = `${run}-batch-first`;
      const last = `${run}-batch-last`;
      const body = `{"events":[${[event(first), ...CASES.map((k) => k.text), event(last)].join(',')}]}`;
      const res = await post(body);
      expect(res.status, JSON.stringify(res.body)).to.equal(207);
      await expectCreated(res, 0, first);
      await expectCreated(res, CASES.length + 1, last);
      CASES.forEach((k, i) => {
        const r = res.body.results[i + 1];
        expect(r.status, k.name).to.equal('rejected');
        expect(r.error.startsWith(k.param), r.error).to.equal(true);
        expect(r.error).to.match(k.message);
        // A repeated id names neither of its values.
        expect(r.id).to.equal(k.param === 'id' ? '' : k.ids[0]);
      });
      await expectNotWritten(CASES.flatMap((k) => k.ids));
    });

    it('NDJSON, one event per line', async () => {
      const first = `${run}-ndjson-first`;
      const last = `${run}-ndjson-last`;
      const body = [event(first), ...CASES.map((k) => k.text), event(last)].join('\n');
      const res = await post(body, 'application/x-ndjson');
      expect(res.status, JSON.stringify(res.body)).to.equal(207);
      await expectCreated(res, 0, first);
      await expectCreated(res, CASES.length + 1, last);
      CASES.forEach((k, i) => {
        const r = res.body.results[i + 1];
        expect(r.status, k.name).to.equal('rejected');
        expect(r.error.startsWith(k.param), r.error).to.equal(true);
        expect(r.error).to.match(k.message);
      });
      await expectNotWritten(CASES.flatMap((k) => k.ids));
    });
  });

  describe('the body itself at fault → 400 invalid_body, nothing written', () => {
    it('"events" twice in a batch body', async () => {
      const [a, b] = [`${run}-events-a`, `${run}-events-b`];
      const res = await post(`{"events":[${event(a)}],"events":[${event(b)}]}`);
      expect(res.status).to.equal(400);
      expect(res.body).to.include({ code: 'invalid_body', param: 'events' });
      expect(res.body.error).to.match(TWICE);
      await expectNotWritten([a, b]);
    });

    it('bytes that are not UTF-8 (they would be replaced silently)', async () => {
      const id = `${run}-latin1`;
      const res = await post(Buffer.from(event(id, ',"actorName":"Ren\xe9"'), 'latin1'));
      expect(res.status).to.equal(400);
      expect(res.body).to.include({ code: 'invalid_body', param: 'body' });
      expect(res.body.error).to.match(/not valid UTF-8/);
      await expectNotWritten([id]);
    });
  });

  describe('content encodings: 415 when not supported, 400 when the body does not decode', () => {
    const json = (id: string) => Buffer.from(event(id));
    const bad: [string, string, (id: string) => Buffer, number, string][] = [
      [
        'gzip twice (stacked)',
        'gzip, gzip',
        (id) => zlib.gzipSync(zlib.gzipSync(json(id))),
        415,
        'unsupported_content_encoding',
      ],
      ['an unknown encoding', 'compress', (id) => json(id), 415, 'unsupported_content_encoding'],
      ['gzip that is not gzip', 'gzip', (id) => json(id), 400, 'invalid_content_encoding'],
      [
        'gzip cut short',
        'gzip',
        (id) => zlib.gzipSync(json(id)).subarray(0, 20),
        400,
        'invalid_content_encoding',
      ],
      [
        'br that is not brotli',
        'br',
        (id) => Buffer.concat([Buffer.from([0xff, 0xff]), json(id)]),
        400,
        'invalid_content_encoding',
      ],
      ['deflate that is not deflate', 'deflate', (id) => json(id), 400, 'invalid_content_encoding'],
    ];
    for (const [name, encoding, body, status, code] of bad) {
      it(`ingest: ${name} → ${status} ${code}`, async () => {
        const id = `${run}-enc-${++n}`;
        const res = await post(body(id), 'application/json', { 'content-encoding': encoding });
        expect(res.status, JSON.stringify(res.body)).to.equal(status);
        expect(res.body).to.include({ code, param: 'Content-Encoding' });
        expect(res.body.error).to.include(`"${encoding}"`);
        await expectNotWritten([id]);
      });

      it(`operator API: ${name} → ${status} ${code}`, async () => {
        const orgId = uniqueId('org');
        const res = await send(
          `${service.url}/api/v1/admin/orgs/${orgId}`,
          encoding.includes('gzip') && status === 415
            ? zlib.gzipSync(zlib.gzipSync('{"name":"X","plan":"team"}'))
            : Buffer.from('{"name":"X","plan":"team"}'),
          {
            authorization: `Bearer ${OPERATOR_TOKEN}`,
            'content-type': 'application/json',
            'content-encoding': encoding,
          },
          'PUT',
        );
        expect(res.status, JSON.stringify(res.body)).to.equal(status);
        expect(res.body).to.include({ code, param: 'Content-Encoding' });
        const stored = await service.store.get({ index: INTERNAL.orgs, id: orgId }, { ignore: [404] });
        expect(stored.body.found).to.equal(false);
      });
    }

    it('a body compressed once with gzip or br is read as usual', async () => {
      for (const [encoding, compress] of [
        ['gzip', zlib.gzipSync],
        ['br', zlib.brotliCompressSync],
      ] as const) {
        const id = `${run}-${encoding}-ok`;
        const res = await post(compress(Buffer.from(event(id))), 'application/json', {
          'content-encoding': encoding,
        });
        expect(res.status, JSON.stringify(res.body)).to.equal(201);
        good.push(id);
      }
    });
  });

  describe('operator API bodies get the same strictness', () => {
    const put = (orgId: string, body: string) =>
      send(
        `${service.url}/api/v1/admin/orgs/${orgId}`,
        body,
        { authorization: `Bearer ${OPERATOR_TOKEN}`, 'content-type': 'application/json' },
        'PUT',
      );
    const cases: [string, string, string, RegExp][] = [
      ['a field twice', '{"name":"A","name":"B","plan":"team"}', 'name', TWICE],
      ['__proto__', '{"name":"A","plan":"team","__proto__":{"x":1}}', '__proto__', PROTO],
      [
        'deep nesting',
        `{"name":${nest(5_000, '[', ']', '')},"plan":"team"}`,
        `name${'[0]'.repeat(MAX_DEPTH)}`,
        DEEP,
      ],
      ['a number a double cannot keep', '{"name":"A","plan":"team","n":1e309}', 'n', /beyond the range/],
      ['a lone surrogate', '{"name":"\\ud800","plan":"team"}', 'name', /lone UTF-16 surrogate/],
    ];
    for (const [name, body, param, message] of cases) {
      it(`PUT /admin/orgs/:orgId with ${name} → 400 invalid_body naming ${param}`, async () => {
        const orgId = uniqueId('org');
        const res = await put(orgId, body);
        expect(res.status, JSON.stringify(res.body)).to.equal(400);
        expect(res.body).to.include({ code: 'invalid_body', param });
        expect(res.body.error).to.match(message);
        const stored = await service.store.get({ index: INTERNAL.orgs, id: orgId }, { ignore: [404] });
        expect(stored.body.found).to.equal(false);
      });
    }

    it('a body over the limit → 413 in the operator API’s terms, not about events', async () => {
      const res = await put(uniqueId('org'), JSON.stringify({ name: 'x'.repeat(70_000), plan: 'team' }));
      expect(res.status, JSON.stringify(res.body)).to.equal(413);
      expect(res.body.code).to.equal('body_too_large');
      expect(res.body.error).to.match(/larger than 64 KB/);
      expect(res.body.error).not.to.match(/event/);
    });
  });

  describe('integer query parameters: plain decimals only', () => {
    const forms = ['0x10', '1e2', '+5', '5.0', '0b11', ' 5', '5 ', '05', '-1', '', '1_0', '٥'];
    for (const path of ['', '/stream']) {
      it(`GET /api/v1/audit-logs${path}?limit= ${forms.map((f) => JSON.stringify(f)).join(' ')} → 400 naming limit`, async () => {
        for (const form of forms) {
          const res = await read(`${path}?limit=${encodeURIComponent(form)}`);
          expect(res.status, `limit=${JSON.stringify(form)}`).to.equal(400);
          expect(JSON.parse(res.text), form).to.include({ code: 'invalid_parameter', param: 'limit' });
        }
        expect((await read(`${path}?limit=5`)).status).to.equal(200);
      });
    }

    it('the page API routes take no integer parameters and refuse limit by name', async () => {
      for (const path of ['/histogram', '/export']) {
        const res = await read(`${path}?limit=0x10`);
        expect(res.status, path).to.equal(400);
        expect(JSON.parse(res.text)).to.include({ code: 'invalid_parameter', param: 'limit' });
      }
    });
  });

  describe('storage unavailable: 503 storage_unavailable saying what it means for a read or a write', () => {
    it('reads say the request could not be answered; writes that nothing was acknowledged', async () => {
      const dead = createStore(`http://127.0.0.1:${await freePort(0)}`);
      const server = buildApp({ cfg: service.ctx.cfg, store: dead }).listen(0);
      try {
        const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/audit-logs`;
        const reading = await fetch(url, { headers: { authorization: `Bearer ${org.owner.key}` } });
        const readBody = await reading.json();
        expect(reading.status).to.equal(503);
        expect(reading.headers.get('retry-after')).to.match(/^\d+$/);
        expect(readBody.code).to.equal('storage_unavailable');
        expect(readBody.error)
          .to.match(/could not be answered/)
          .and.not.match(/acknowledged/);
        const writing = await send(url, event(`${run}-dead`), {
          authorization: `Bearer ${ingestKey}`,
          'content-type': 'application/json',
        });
        expect(writing.status).to.equal(503);
        expect(writing.headers.get('retry-after')).to.match(/^\d+$/);
        expect(writing.body.code).to.equal('storage_unavailable');
        expect(writing.body.error).to.match(/nothing from this request was acknowledged/);
      } finally {
        server.close();
        await dead.close();
      }
    });
  });

  describe('inputs that once answered 500: a 4xx naming the field, or an empty answer', () => {
    it('GET /histogram over days that have no index → 200, every bucket 0', async () => {
      const res = await read('/histogram?startDate=2001-03-01&endDate=2001-03-03');
      expect(res.status, res.text).to.equal(200);
      const body = JSON.parse(res.text) as { total: number; buckets: { count: number }[] };
      expect(body.total).to.equal(0);
      expect(body.buckets).to.have.length.above(0);
      expect(body.buckets.every((b) => b.count === 0)).to.equal(true);
    });

    it('list, export and histogram up to a day of the years 1-99 → an empty answer', async () => {
      for (const end of ['0001-01-01', '0099-12-31']) {
        const list = await read(`?endDate=${end}`);
        expect(list.status, list.text).to.equal(200);
        expect(JSON.parse(list.text)).to.deep.equal({ data: [] });
        const ndjson = await read(`/export?format=ndjson&endDate=${end}`);
        expect(ndjson.status, ndjson.text).to.equal(200);
        expect(ndjson.text).to.equal('');
        const csv = await read(`/export?format=csv&endDate=${end}`);
        expect(csv.status, csv.text).to.equal(200);
        expect(csv.text.trim().split('\n')).to.have.length(1); // the header only
        const histogram = await read(`/histogram?startDate=0001-01-01&endDate=${end}`);
        expect(histogram.status, histogram.text).to.equal(200);
        expect(JSON.parse(histogram.text).total).to.equal(0);
      }
    });

    it('GET /:id/proof with an id that is not UTF-8 or 5,000 characters long → 400 naming it', async () => {
      const undecodable = await read('/%FF/proof');
      expect(undecodable.status, undecodable.text).to.equal(400);
      expect(JSON.parse(undecodable.text)).to.include({ code: 'invalid_parameter', param: 'path' });
      const long = await read(`/${'a'.repeat(5_000)}/proof`);
      expect(long.status, long.text.slice(0, 300)).to.equal(400);
      expect(JSON.parse(long.text)).to.include({ code: 'invalid_parameter', param: 'id' });
    });

    it('PUT a workspace named "\\ud800" (a lone surrogate) → 400 invalid_body naming name', async () => {
      const workspaceId = uniqueId('ws');
      const res = await send(
        `${service.url}/api/v1/admin/orgs/${org.orgId}/workspaces/${workspaceId}`,
        '{"name":"\\ud800"}',
        { authorization: `Bearer ${OPERATOR_TOKEN}`, 'content-type': 'application/json' },
        'PUT',
      );
      expect(res.status, JSON.stringify(res.body)).to.equal(400);
      expect(res.body).to.include({ code: 'invalid_body', param: 'name' });
      expect(res.body.error).to.match(/lone UTF-16 surrogate/);
    });
  });

  describe('afterwards, every reader still answers', () => {
    before(() => service.store.indices.refresh({ index: 'audit-logs-*' }));

    it('list and search hold exactly the events that were accepted', async () => {
      const list = await read('?limit=100');
      expect(list.status, list.text).to.equal(200);
      // The directory's own events of the org (dir_…) are listed too.
      const ids = (JSON.parse(list.text).data as { id: string }[])
        .map((e) => e.id)
        .filter((id) => id.startsWith(run))
        .sort();
      expect(ids).to.deep.equal([...good].sort());
      const search = await read(`?search=${run}&limit=100`);
      expect(search.status, search.text).to.equal(200);
      expect(JSON.parse(search.text).data.length).to.be.greaterThan(0);
    });

    it('GET /:id, /:id/proof, /stream, /histogram, /facets and /export', async () => {
      for (const path of [
        `/${good[0]}`,
        `/${good[0]}/proof`,
        '/stream?limit=1000',
        '/histogram',
        '/facets',
        '/export?format=ndjson',
        '/export?format=csv',
      ]) {
        const res = await read(path);
        expect(res.status, `${path}: ${res.text.slice(0, 300)}`).to.equal(200);
      }
      const exported = (await read('/export?format=ndjson')).text.trim().split('\n');
      const ours = exported.map((line) => JSON.parse(line).id).filter((id) => id.startsWith(run));
      expect(ours.sort()).to.deep.equal([...good].sort());
    });

    it('npm run verify finds nothing wrong with the org', async () => {
      const report = await verifyOrg(service.store, {
        orgId: org.orgId,
        publicKey: loadSigningKey(service.ctx.cfg),
        lateGraceMs: 600_000,
      });
      expect(report.problems).to.deep.equal([]);
    });
  });
});
