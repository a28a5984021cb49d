import { expect } from 'chai';
import { PUBLIC_FIELDS } from '../../src/events/schema.ts';
import { parseListQuery } from '../../src/query/query-params.ts';
import { iterateEntries, sortKeyOf } from '../../src/query/search.ts';
import { getEvents } from '../../src/store/event-lookups.ts';
import { getEntry } from '../../src/store/ledger-store.ts';
import { sealAll } from '../fixtures/integrity.ts';
import {
  createOrg,
  get,
  ingest,
  startReadService,
  type ReadService,
  type TestOrg,
} from '../fixtures/read.ts';

/** Six events of one org over 1995-03-01..03, covering every filterable field. */
function eventsOf(org: TestOrg, label: string) {
  const { users, ws } = org;
  const id = (n: number) => `${org.orgId}_e${n}`;
  return [
    {
      id: id(1),
      action: 'workflow.created',
      resourceType: 'workflow',
      resourceId: 'wf_1',
      resourceName: `Customer Onboarding ${label}`,
      description: `Created workflow "Customer Onboarding ${label}"`,
      actorId: users.owner,
      actorName: `Alice ${label}`,
      actorEmail: `alice.${label.toLowerCase()}@company.com`,
      workspaceId: ws[0],
      metadata: { version: 1 },
      createdAt: '1995-03-01T10:00:00.000Z',
    },
    {
      id: id(2),
      action: 'workflow.deleted',
      resourceType: 'workflow',
      resourceId: 'wf_1',
      resourceName: `Customer Onboarding ${label}`,
      actorId: users.admin,
      actorName: `Adam ${label}`,
      workspaceId: ws[1],
      createdAt: '1995-03-02T23:59:59.999Z',
    },
    {
      id: id(3),
      action: 'member.invited',
      resourceType: 'member',
      resourceId: 'usr_new',
      actorId: users.departed,
      actorName: `Dora ${label}`,
      workspaceId: ws[0],
      createdAt: '1995-03-02T12:00:00.000Z',
    },
    {
      id: id(4),
      action: 'environment.updated',
      resourceType: 'environment',
      resourceId: 'env_1',
      description: 'Scheduled rotation of environment secrets',
      workspaceId: ws[1],
      createdAt: '1995-03-03T00:00:00.000Z',
    },
    {
      id: id(5),
      action: 'table.created',
      resourceType: 'table',
      resourceId: 'tbl_1',
      resourceName: `Quarterly Zebra Report ${label}`,
      actorId: users.member,
      actorName: `Mia ${label}`,
      workspaceId: ws[0],
      createdAt: '1995-03-01T00:00:00.000Z',
    },
    {
      id: id(6),
      action: 'api_key.created',
      resourceType: 'api_key',
      resourceId: 'key_1',
      actorId: users.owner,
      actorName: `Alice ${label}`,
      actorEmail: `alice.${label.toLowerCase()}@company.com`,
      createdAt: '1995-03-03T05:00:00.000Z',
      ipAddress: '203.0.113.9',
      userAgent: `SecretAgent/${label}`,
    },
  ];
}

const IN_1995 = 'startDate=1995-03-01&endDate=1995-03-03';

describe('read path: GET /api/v1/audit-logs', function () {
  this.timeout(120_000);
  let svc: ReadService;
  let a: TestOrg;
  let b: TestOrg;
  const ids = (entries: { id: string }[]) => entries.map((e) => e.id);
  const list = (query: string, key = a.keys.owner) => get(svc.url, `/api/v1/audit-logs?${query}`, key);
  const A = (...n: number[]) => n.map((i) => `${a.orgId}_e${i}`);

  before(async () => {
    // The isolation matrix sends the revoked key down every path from one address: far more failed
    // authentications than the per-address limit allows, which auth-limits.test.ts covers.
    svc = await startReadService({ AUDIT_AUTH_FAILURES_PER_MINUTE: '1000000' });
    a = await createOrg(svc.ctx);
    b = await createOrg(svc.ctx);
    await ingest(svc.ctx, a.orgId, eventsOf(a, 'Acme'));
    await ingest(svc.ctx, b.orgId, eventsOf(b, 'Bobco'));
  });
  after(() => svc?.close());

  describe('response shape', () => {
    it('answers { data, nextCursor? } newest first, each entry exactly the twelve public fields', async () => {
      const res = await list(`${IN_1995}&includeDeparted=true`);
      expect(res.status).to.equal(200);
      expect(Object.keys(res.body)).to.deep.equal(['data']);
      expect(ids(res.body.data)).to.deep.equal(A(6, 4, 2, 3, 1, 5));
      for (const e of res.body.data) {
        expect(Object.keys(e)).to.deep.equal([...PUBLIC_FIELDS]);
        expect(e.createdAt).to.match(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      }
      const first = res.body.data.find((e: { id: string }) => e.id === A(1)[0]);
      expect(first).to.deep.equal({
        id: A(1)[0],
        action: 'workflow.created',
        resourceType: 'workflow',
        resourceId: 'wf_1',
        resourceName: 'Customer Onboarding Acme',
        description: 'Created workflow "Customer Onboarding Acme"',
        actorId: a.users.owner,
        actorName: 'Alice Acme',
        actorEmail: 'alice.acme@company.com',
        workspaceId: a.ws[0],
        metadata: { version: 1 },
        createdAt: '1995-03-01T10:00:00.000Z',
      });
      const system = res.body.data.find((e: { id: string }) => e.id === A(4)[0]);
      expect(system.actorId).to.equal(null);
      expect(system.metadata).to.deep.equal({});
    });

    it('never returns the IP address, user agent or salt, on any read path', async () => {
      // The salt is in the stored document (what makes the proof's storedHash safe to give out).
      const entry = (await getEntry(svc.store, a.orgId, A(6)[0]!))!;
      const [stored] = await getEvents(svc.store, [
        { index: entry.index, orgId: a.orgId, eventId: A(6)[0]! },
      ]);
      expect(stored).to.include({ ipAddress: '203.0.113.9', userAgent: 'SecretAgent/Acme' });
      expect(stored!.salt).to.match(/^[A-Za-z0-9_-]{22}$/);
      await sealAll(svc.ctx, a.orgId);
      const base = '/api/v1/audit-logs';
      for (const path of [
        `${base}?${IN_1995}`,
        `${base}/${A(6)[0]}`,
        `${base}/${A(6)[0]}/proof`,
        `${base}/stream?limit=1000`,
        `${base}/export?format=csv&${IN_1995}`,
        `${base}/export?format=ndjson&${IN_1995}`,
        `${base}/facets?includeDeparted=true`,
        `${base}/histogram?${IN_1995}`,
      ]) {
        const res = await get(svc.url, path, a.keys.owner);
        expect(res.status, path).to.equal(200);
        if (!/facets|histogram/.test(path)) expect(res.text, path).to.include(A(6)[0]);
        for (const secret of ['203.0.113.9', 'SecretAgent', stored!.salt!])
          expect(res.text, `${path} returns ${secret}`).not.to.include(secret);
      }
    });

    it('pages with limit, and the last page carries no nextCursor even when the total is a multiple of limit', async () => {
      const p1 = await list(`${IN_1995}&includeDeparted=true&limit=3`);
      expect(ids(p1.body.data)).to.deep.equal(A(6, 4, 2));
      expect(p1.body.nextCursor).to.be.a('string');
      const p2 = await list(`${IN_1995}&includeDeparted=true&limit=3&cursor=${p1.body.nextCursor}`);
      expect(ids(p2.body.data)).to.deep.equal(A(3, 1, 5));
      expect(p2.body).not.to.have.property('nextCursor');
    });

    it('lets the page size change between pages of one query', async () => {
      const p1 = await list(`${IN_1995}&includeDeparted=true&limit=2`);
      const p2 = await list(`${IN_1995}&includeDeparted=true&limit=4&cursor=${p1.body.nextCursor}`);
      expect(ids([...p1.body.data, ...p2.body.data])).to.deep.equal(A(6, 4, 2, 3, 1, 5));
      expect(p2.body).not.to.have.property('nextCursor');
    });

    it('defaults to 50 per page and caps limit at 100', async () => {
      expect((await list('limit=101')).body).to.include({ code: 'invalid_parameter', param: 'limit' });
      expect((await list('limit=0')).body).to.include({ code: 'invalid_parameter', param: 'limit' });
      expect((await list('limit=abc')).body).to.include({ code: 'invalid_parameter', param: 'limit' });
      // Directory changes of this org (today) plus the 1995 events: more than 6, fewer than 50.
      const all = await list('includeDeparted=true');
      expect(all.body.data.length).to.be.greaterThan(6).and.below(50);
      expect(all.body).not.to.have.property('nextCursor');
    });
  });

  describe('filters', () => {
    const cases: [string, number[]][] = [
      ['action=workflow.created', [1]],
      ['action=workflow.deleted,workflow.created', [2, 1]],
      ['action=workflow.deleted&action=table.created', [2, 5]],
      ['resourceType=workflow', [2, 1]],
      ['resourceType=table,environment', [4, 5]],
      ['resourceId=wf_1', [2, 1]],
      ['startDate=1995-03-02&endDate=1995-03-02', [2]],
      ['startDate=1995-03-02T12:00:00Z&endDate=1995-03-02', [2]],
      ['startDate=1995-03-01T10:00:00.001Z&endDate=1995-03-02T23:59:59.998Z', []],
      ['startDate=1995-03-01T11:00:00%2B01:00&endDate=1995-03-01T10:00:00Z', [1]],
      ['startDate=1995-03-03&endDate=1995-03-03', [6, 4]],
      ['startDate=1995-03-01&endDate=1995-03-01', [1, 5]],
      ['startDate=1995-03-01&endDate=1995-03-03&search=onboard', [2, 1]],
      ['startDate=1995-03-01&endDate=1995-03-03&search=customer%20onboarding%20acme', [2, 1]],
      ['startDate=1995-03-01&endDate=1995-03-03&search=zebra', [5]],
      ['startDate=1995-03-01&endDate=1995-03-03&search=mia', [5]],
      ['startDate=1995-03-01&endDate=1995-03-03&search=alice.acme', [6, 1]],
      ['startDate=1995-03-01&endDate=1995-03-03&search=rotation%20secr', [4]],
      ['startDate=1995-03-01&endDate=1995-03-03&search=zebra%20alice', []],
      ['startDate=1995-03-01&endDate=1995-03-03&search=api_key', [6]],
      ['startDate=1995-03-01&endDate=1995-03-03&search=%20%20', [6, 4, 2, 1, 5]],
    ];
    for (const [query, expected] of cases) {
      it(`${decodeURIComponent(query)} → ${expected.map((n) => `e${n}`).join(', ') || 'nothing'}`, async () => {
        const res = await list(query);
        expect(res.status, res.text).to.equal(200);
        const own = ids(res.body.data).filter((id) => id.startsWith(a.orgId));
        expect(own).to.deep.equal(A(...expected));
        expect(res.body.data.length).to.equal(own.length);
      });
    }

    it('takes any search string without error: quotes, operators, regex and JSON-ish text', async () => {
      for (const s of [
        '"',
        'a AND (b',
        '*:*',
        '/.*/',
        'title:x^3 ~2',
        '{"query":1}',
        '\\',
        'ü∂ 🚀',
        "'; DROP",
      ]) {
        const res = await list(`${IN_1995}&search=${encodeURIComponent(s)}`);
        expect(res.status, `${s}: ${res.text}`).to.equal(200);
        expect(res.body.data).to.deep.equal([]);
      }
    });

    it('workspaceId narrows to one workspace; a workspace of another org is a 400 naming it', async () => {
      expect(ids((await list(`${IN_1995}&workspaceId=${a.ws[1]}`)).body.data)).to.deep.equal(A(4, 2));
      for (const w of [b.ws[0], 'ws_nope']) {
        const res = await list(`${IN_1995}&workspaceId=${w}`);
        expect(res.status).to.equal(400);
        expect(res.body).to.include({ code: 'invalid_parameter', param: 'workspaceId' });
        expect(res.body.error).to.include(w);
      }
    });

    it('actorId accepts current and former members, and refuses anyone else naming actorId', async () => {
      expect(ids((await list(`${IN_1995}&actorId=${a.users.owner}`)).body.data)).to.deep.equal(A(6, 1));
      for (const u of [b.users.owner, 'usr_stranger']) {
        const res = await list(`actorId=${u}`);
        expect(res.status).to.equal(400);
        expect(res.body).to.include({ code: 'invalid_parameter', param: 'actorId' });
      }
    });

    it('hides departed members’ events by default, keeps system events, and shows them with includeDeparted=true', async () => {
      expect(ids((await list(IN_1995)).body.data)).to.deep.equal(A(6, 4, 2, 1, 5));
      expect(ids((await list(`${IN_1995}&includeDeparted=false`)).body.data)).to.deep.equal(A(6, 4, 2, 1, 5));
      expect(ids((await list(`${IN_1995}&includeDeparted=true`)).body.data)).to.deep.equal(
        A(6, 4, 2, 3, 1, 5),
      );
    });

    it('actorId of a departed member returns their events; with includeDeparted=false written out it is a 400', async () => {
      expect(ids((await list(`${IN_1995}&actorId=${a.users.departed}`)).body.data)).to.deep.equal(A(3));
      const both = `${IN_1995}&actorId=${a.users.departed}&includeDeparted=true`;
      expect(ids((await list(both)).body.data)).to.deep.equal(A(3));
      const res = await list(`${IN_1995}&actorId=${a.users.departed}&includeDeparted=false`);
      expect(res.status).to.equal(400);
      expect(res.body).to.include({ code: 'invalid_parameter', param: 'includeDeparted' });
      expect(res.body.error).to.include('includeDeparted=true');
    });

    it('a date range whose days have no index is an empty page, not an error', async () => {
      const res = await list('startDate=1995-11-01&endDate=1995-11-03');
      expect(res.status).to.equal(200);
      expect(res.body).to.deep.equal({ data: [] });
      const future = await list('startDate=2990-01-01');
      expect(future.body).to.deep.equal({ data: [] });
    });

    it('refuses unknown, repeated and malformed parameters with the parameter named', async () => {
      const cases: [string, string, string][] = [
        ['actorid=x', 'unknown_parameter', 'actorid'],
        ['orgId=x', 'unknown_parameter', 'orgId'],
        ['limit=5&limit=6', 'invalid_parameter', 'limit'],
        ['startDate=1995-13-01', 'invalid_parameter', 'startDate'],
        ['endDate=1995-03-01T10:00:00', 'invalid_parameter', 'endDate'],
        ['startDate=1995-03-02&endDate=1995-03-01', 'invalid_parameter', 'startDate'],
        ['includeDeparted=1x', 'invalid_parameter', 'includeDeparted'],
        ['action=Workflow%20Created', 'invalid_parameter', 'action'],
        ['resourceType=a,', 'invalid_parameter', 'resourceType'],
      ];
      for (const [query, code, param] of cases) {
        const res = await list(query);
        expect(res.status, query).to.equal(400);
        expect(res.body, query).to.include({ code, param });
        expect(res.body.error).to.be.a('string').and.not.equal('');
      }
    });
  });

  describe('iterateEntries (export, stream)', () => {
    it('walks every match in small pages, in the API order, and resumes after a given entry', async () => {
      const f = parseListQuery({
        startDate: '1995-03-01',
        endDate: '1995-03-03',
        includeDeparted: 'true',
      }).filters;
      const walked = [];
      for await (const e of iterateEntries(svc.store, f, { orgId: a.orgId }, { pageSize: 2 })) walked.push(e);
      expect(walked.map((e) => e.id)).to.deep.equal(A(6, 4, 2, 3, 1, 5));
      const api = await list(`${IN_1995}&includeDeparted=true`);
      expect(walked).to.deep.equal(api.body.data);
      const rest = [];
      for await (const e of iterateEntries(
        svc.store,
        f,
        { orgId: a.orgId },
        { after: sortKeyOf(walked[1]!) },
      )) {
        rest.push(e.id);
      }
      expect(rest).to.deep.equal(A(2, 3, 1, 5));
    });
  });

  describe('cursors', () => {
    const q = `${IN_1995}&includeDeparted=true`;
    let cursor: string;
    before(async () => {
      cursor = (await list(`${q}&limit=2`)).body.nextCursor;
    });

    it('are opaque and URL-safe', () => {
      expect(cursor).to.match(/^[A-Za-z0-9_.-]+$/);
      expect(cursor).not.to.include(a.orgId);
    });

    it('refuse forged, truncated and edited cursors with 400 invalid_cursor', async () => {
      const [v, payload, mac] = cursor.split('.') as [string, string, string];
      const edited = Buffer.from(JSON.stringify([794_016_000_000, `${a.orgId}_e1`])).toString('base64url');
      const forged = Buffer.from(JSON.stringify({ createdAt: 794_016_000_000, id: 'x' })).toString(
        'base64url',
      );
      for (const bad of [
        cursor.slice(0, -3),
        cursor.slice(0, 10),
        `${v}.${edited}.${mac}`,
        `${v}.${payload}.${mac.slice(1)}A`,
        forged,
        'eyJpZCI6ImFiYzEyMyJ9',
        `c2.${payload}.${mac}`,
      ]) {
        const res = await list(`${q}&limit=2&cursor=${encodeURIComponent(bad)}`);
        expect(res.status, bad).to.equal(400);
        expect(res.body).to.include({ code: 'invalid_cursor', param: 'cursor' });
      }
    });

    it('refuse a cursor used with other filters, by another org, or by a narrower key', async () => {
      for (const [query, key] of [
        [`${IN_1995}&includeDeparted=false`, a.keys.owner],
        [`${q}&action=workflow.created`, a.keys.owner],
        [`startDate=1995-03-01&endDate=1995-03-04&includeDeparted=true`, a.keys.owner],
        [`${q}&search=a`, a.keys.owner],
        [q, b.keys.owner],
        [q, a.keys.workspace],
      ] as const) {
        const res = await get(svc.url, `/api/v1/audit-logs?${query}&limit=2&cursor=${cursor}`, key);
        expect(res.status, query).to.equal(400);
        expect(res.body.code).to.equal('invalid_cursor');
      }
    });

    it('continue the same query for another key of the same org and scope', async () => {
      const res = await get(svc.url, `/api/v1/audit-logs?${q}&limit=2&cursor=${cursor}`, a.keys.admin);
      expect(res.status).to.equal(200);
      expect(ids(res.body.data)).to.deep.equal(A(2, 3));
    });
  });

  describe('GET /api/v1/audit-logs/:id', () => {
    it('returns one entry with the twelve fields', async () => {
      const res = await get(svc.url, `/api/v1/audit-logs/${A(6)[0]}`, a.keys.owner);
      expect(res.status).to.equal(200);
      expect(Object.keys(res.body)).to.deep.equal([...PUBLIC_FIELDS]);
      expect(res.body).to.include({
        id: A(6)[0],
        action: 'api_key.created',
        createdAt: '1995-03-03T05:00:00.000Z',
      });
      expect(res.text).not.to.include('203.0.113.9');
    });

    it('returns a departed member’s entry: an id is an explicit request', async () => {
      expect((await get(svc.url, `/api/v1/audit-logs/${A(3)[0]}`, a.keys.owner)).status).to.equal(200);
    });

    it('is 404 for an unknown id, another org’s id, and another workspace’s id for a workspace key', async () => {
      for (const [id, key] of [
        ['evt_does_not_exist', a.keys.owner],
        [`${b.orgId}_e1`, a.keys.owner],
        [A(2)[0], a.keys.workspace],
        [A(6)[0], a.keys.workspace],
      ] as const) {
        const res = await get(svc.url, `/api/v1/audit-logs/${id}`, key);
        expect(res.status, id).to.equal(404);
        expect(res.body.code).to.equal('not_found');
      }
      expect((await get(svc.url, `/api/v1/audit-logs/${A(1)[0]}`, a.keys.workspace)).status).to.equal(200);
    });

    it('finds an entry right after its 201, before any refresh, within the same scope rules', async () => {
      for (let n = 0; n < 5; n++) {
        const workspaceId = a.ws[n % 2];
        const id = `${a.orgId}_fresh${n}`;
        const res = await fetch(`${svc.url}/api/v1/audit-logs`, {
          method: 'POST',
          headers: { authorization: `Bearer ${a.keys.ingest}`, 'content-type': 'application/json' },
          body: JSON.stringify({ id, action: 'workflow.created', resourceType: 'workflow', workspaceId }),
        });
        expect(res.status).to.equal(201);
        const read = await get(svc.url, `/api/v1/audit-logs/${id}`, a.keys.owner);
        expect(read.status, `${id} read at once`).to.equal(200);
        expect(read.body).to.include({ id, workspaceId });
        const narrowed = await get(svc.url, `/api/v1/audit-logs/${id}`, a.keys.workspace);
        expect(narrowed.status, `${id} by a key of ${a.ws[0]}`).to.equal(workspaceId === a.ws[0] ? 200 : 404);
        expect((await get(svc.url, `/api/v1/audit-logs/${id}`, b.keys.owner)).status).to.equal(404);
      }
    });

    it('refuses query parameters, and leaves deeper paths to other routers', async () => {
      const res = await get(svc.url, `/api/v1/audit-logs/${A(1)[0]}?limit=1`, a.keys.owner);
      expect(res.body).to.include({ code: 'unknown_parameter', param: 'limit' });
      const deeper = await get(svc.url, `/api/v1/audit-logs/${A(1)[0]}/nothing-here`, a.keys.owner);
      expect(deeper.body.code).to.equal('route_not_found');
    });
  });

  describe('who may read', () => {
    it('a workspace key sees only its workspace; asking for another is a 403', async () => {
      const res = await list(IN_1995, a.keys.workspace);
      expect(ids(res.body.data)).to.deep.equal(A(1, 5));
      const own = await list(`${IN_1995}&workspaceId=${a.ws[0]}`, a.keys.workspace);
      expect(ids(own.body.data)).to.deep.equal(A(1, 5));
      const other = await list(`${IN_1995}&workspaceId=${a.ws[1]}`, a.keys.workspace);
      expect(other.status).to.equal(403);
    });

    it('members, departed and demoted users, ingest keys and orphaned workspace keys get 403 with a reason', async () => {
      for (const key of [
        a.keys.member,
        a.keys.departed,
        a.keys.demoted,
        a.keys.ingest,
        a.keys.orphanWorkspace,
      ]) {
        const res = await list(IN_1995, key);
        expect(res.status).to.equal(403);
        expect(res.body.error).to.be.a('string').with.length.greaterThan(20);
        expect(res.text).not.to.include(`${a.orgId}_e`);
        expect((await get(svc.url, `/api/v1/audit-logs/${A(1)[0]}`, key)).status).to.equal(403);
      }
    });

    it('unknown, revoked or missing keys get 401 with WWW-Authenticate: Bearer', async () => {
      for (const key of [a.keys.revoked, 'alk_0000000000000000_' + 'x'.repeat(43), 'nonsense', undefined]) {
        const res = await get(svc.url, `/api/v1/audit-logs?${IN_1995}`, key);
        expect(res.status).to.equal(401);
        expect(res.headers.get('www-authenticate')).to.match(/^Bearer/);
      }
    });
  });

  describe('tenant isolation', () => {
    it('no key of org A, of any kind, sees anything of org B through any parameter combination or id', async () => {
      // Every id org B has in the store: its 1995 events and the records of its directory changes.
      const { body } = await svc.store.search({
        index: 'audit-logs-*',
        body: { query: { term: { orgId: b.orgId } }, size: 1000, _source: ['id'] },
      });
      const bIds = new Set((body.hits.hits as { _source: { id: string } }[]).map((h) => h._source.id));
      expect(bIds.size).to.be.greaterThan(6);
      const bCursor = (await list(`${IN_1995}&includeDeparted=true&limit=1`, b.keys.owner)).body.nextCursor;
      const markers = ['Bobco', 'bobco', b.orgId, ...Object.values(b.users), ...b.ws];

      const single = [
        '',
        IN_1995,
        'includeDeparted=true',
        `actorId=${b.users.owner}`,
        `actorId=${b.users.departed}&includeDeparted=true`,
        `workspaceId=${b.ws[0]}`,
        `workspaceId=${b.ws[1]}`,
        'resourceId=wf_1',
        'search=Bobco',
        'search=customer',
        'action=workflow.created,workflow.deleted,member.invited,environment.updated,table.created,api_key.created',
        'resourceType=workflow,member,environment,table,api_key,organization,workspace,org_member',
        `cursor=${bCursor}&${IN_1995}&includeDeparted=true`,
      ];
      const pairs = new Set<string>();
      for (const x of single) for (const y of single) pairs.add([x, y].filter(Boolean).join('&'));
      const pathsOf = (queries: Iterable<string>) => [
        ...[...queries].map((q) => `/api/v1/audit-logs?${q}${q ? '&' : ''}limit=100`),
        ...[...bIds].map((id) => `/api/v1/audit-logs/${id}`),
      ];
      // Keys that may read get every pair of parameters; refused keys every single one (they stop at 401/403).
      const readers = new Set(['owner', 'admin', 'workspace']);
      let served = 0;
      for (const [kind, key] of Object.entries(a.keys)) {
        for (const path of pathsOf(readers.has(kind) ? pairs : single)) {
          const res = await get(svc.url, path, key);
          const where = `${kind} ${path}: ${res.text.slice(0, 200)}`;
          for (const m of markers) if (!path.includes(m)) expect(res.text, where).not.to.include(m);
          const entries = res.status === 200 ? (res.body.data ?? [res.body]) : [];
          for (const e of entries) expect(bIds.has(e.id), where).to.equal(false);
          if (path.includes('/audit-logs/')) expect(res.status, where).to.be.oneOf([401, 403, 404]);
          if (res.status === 200) served += entries.length;
        }
      }
      expect(served).to.be.greaterThan(100); // the matrix did read org A's entries, not only errors
    });
  });

  describe('rate-limit headers', () => {
    it('are on every /api/v1 response: success, 400, 401, 403, 404', async () => {
      const responses = [
        await list(IN_1995),
        await list('bogus=1'),
        await list(IN_1995, 'nonsense'),
        await list(IN_1995, a.keys.member),
        await get(svc.url, '/api/v1/audit-logs/evt_nope', a.keys.owner),
        await get(svc.url, '/api/v1/no-such-route', a.keys.owner),
      ];
      for (const res of responses) {
        expect(res.headers.get('x-ratelimit-limit')).to.equal('600');
        expect(Number(res.headers.get('x-ratelimit-remaining'))).to.be.within(0, 599);
        const reset = Number(res.headers.get('x-ratelimit-reset'));
        const now = Date.now() / 1000;
        expect(reset).to.be.within(now - 1, now + 61); // epoch seconds
      }
    });
  });
});

describe('read path: rate limit', function () {
  this.timeout(60_000);
  let svc: ReadService;
  let org: TestOrg;
  before(async () => {
    svc = await startReadService({ AUDIT_RATE_LIMIT_PER_MINUTE: '3' });
    org = await createOrg(svc.ctx);
  });
  after(() => svc?.close());

  it('answers 429 with Retry-After and a JSON error once a key is over its limit, per key', async () => {
    const statuses: number[] = [];
    let last;
    for (let i = 0; i < 4; i++) {
      last = await get(svc.url, '/api/v1/audit-logs?limit=1', org.keys.owner);
      statuses.push(last.status);
      expect(last.headers.get('x-ratelimit-limit')).to.equal('3');
    }
    expect(statuses).to.deep.equal([200, 200, 200, 429]);
    expect(last!.body).to.include({ code: 'rate_limited' });
    expect(Number(last!.headers.get('retry-after'))).to.be.within(1, 60);
    expect(last!.headers.get('x-ratelimit-remaining')).to.equal('0');
    // Another key has its own budget.
    expect((await get(svc.url, '/api/v1/audit-logs?limit=1', org.keys.admin)).status).to.equal(200);
  });
});
