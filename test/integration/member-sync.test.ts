/** The SCIM-like member sync (`PUT /api/v1/admin/orgs/:orgId/members`) and departed members at scale. */
import { expect } from 'chai';
import crypto from 'node:crypto';
import { DROP_DEPARTED_ABOVE } from '../../src/query/search.ts';
import { INTERNAL } from '../../src/store/names.ts';
import type { RunningService } from '../../src/server.ts';
import { startTestService, testStore, uniqueId } from '../helpers.ts';

const TOKEN = `op-${crypto.randomBytes(12).toString('hex')}`;

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('directory: member sync', function () {
  this.timeout(600_000);
  let svc: RunningService;
  const store = testStore();

  before(async () => {
    svc = await startTestService({
      AUDIT_ADMIN_TOKEN: TOKEN,
      AUDIT_LOGS_ENABLED: 'true',
      AUDIT_RATE_LIMIT_PER_MINUTE: '100000',
    });
  });
  after(async () => {
    await svc?.close();
    await store.close();
  });

  async function call(method: string, path: string, body?: unknown, token = TOKEN) {
    const res = await fetch(`${svc.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as Json };
  }
  const admin = (method: string, path: string, body?: unknown) => call(method, `/api/v1/admin${path}`, body);
  const member = (userId: string, role = 'member', name = `User ${userId}`) => ({
    userId,
    email: `${userId}@example.com`,
    name,
    role,
  });

  async function memberEvents(orgId: string): Promise<string[]> {
    await store.indices.refresh({ index: 'audit-logs-*' });
    const res = await store.search({
      index: 'audit-logs-*',
      body: {
        size: 1000,
        query: { bool: { filter: [{ term: { orgId } }, { term: { resourceType: 'org_member' } }] } },
        sort: [{ createdAt: 'asc' }, { id: 'asc' }],
      } as never,
    });
    return res.body.hits.hits.map((h) => {
      const e = h._source as Json;
      return `${e.action}:${e.resourceId}`;
    });
  }

  it('adds, changes, departs and re-adds in one call, with the events of the single-member calls', async () => {
    const orgId = uniqueId('org');
    await admin('PUT', `/orgs/${orgId}`, { name: 'Acme', plan: 'enterprise' });
    for (const u of ['alice', 'bob', 'carol', 'dave']) {
      const { userId, ...body } = member(u);
      await admin('PUT', `/orgs/${orgId}/members/${userId}`, body);
    }
    await admin('DELETE', `/orgs/${orgId}/members/carol`);
    const before = await memberEvents(orgId);

    const list = [member('alice'), member('bob', 'admin'), member('carol'), member('erin', 'owner')];
    const res = await admin('PUT', `/orgs/${orgId}/members`, { members: list });
    expect(res.status).to.equal(200);
    expect(res.body).to.deep.equal({ added: 2, updated: 1, removed: 1, unchanged: 1 });

    const doc = (await store.get({ index: INTERNAL.membership, id: orgId })).body._source;
    expect(doc).to.deep.equal({ orgId, current: ['alice', 'bob', 'carol', 'erin'], departed: ['dave'] });
    const dave = (await store.get({ index: INTERNAL.members, id: `${orgId}:dave` })).body._source as Json;
    expect(dave.leftAt).to.be.a('string');
    const carol = (await store.get({ index: INTERNAL.members, id: `${orgId}:carol` })).body._source as Json;
    expect(carol).to.not.have.property('leftAt');

    const events = (await memberEvents(orgId)).slice(before.length);
    expect(events.sort()).to.deep.equal(
      [
        'org_member.role_changed:bob',
        'org_member.added:carol',
        'org_member.added:erin',
        'org_member.removed:dave',
      ].sort(),
    );

    // The same list again changes nothing and records nothing.
    const again = await admin('PUT', `/orgs/${orgId}/members`, { members: list });
    expect(again.body).to.deep.equal({ added: 0, updated: 0, removed: 0, unchanged: 4 });
    expect(await memberEvents(orgId)).to.have.length(before.length + 4);
  });

  it('refuses a list naming a member twice or a bad field with a 400, changing nothing', async () => {
    const orgId = uniqueId('org');
    await admin('PUT', `/orgs/${orgId}`, { name: 'Acme', plan: 'enterprise' });
    const twice = await admin('PUT', `/orgs/${orgId}/members`, { members: [member('a'), member('a')] });
    expect(twice.status).to.equal(400);
    const bad = await admin('PUT', `/orgs/${orgId}/members`, { members: [{ ...member('a'), role: 'boss' }] });
    expect(bad.status).to.equal(400);
    expect(bad.body.param).to.match(/role/);
    expect(await memberEvents(orgId)).to.deep.equal([]);
    expect((await admin('PUT', `/orgs/org_${Date.now()}_x/members`, { members: [] })).status).to.equal(404);
  });

  it('hides the events of more than 65,536 departed members (beyond one terms query) from reads', async () => {
    const orgId = uniqueId('org');
    await admin('PUT', `/orgs/${orgId}`, { name: 'Big', plan: 'enterprise' });
    const many = Array.from({ length: 70_000 }, (_, i) => member(`u${String(i).padStart(5, '0')}`));
    expect((await admin('PUT', `/orgs/${orgId}/members`, { members: many })).body.added).to.equal(70_000);
    const keeper = member('keeper', 'owner');
    const left = await admin('PUT', `/orgs/${orgId}/members`, { members: [keeper] });
    expect(left.body).to.include({ added: 1, removed: 70_000 });

    const ingestKey = (await admin('POST', '/ingest-keys', { orgId })).body.key as string;
    const readKey = (await admin('POST', `/orgs/${orgId}/api-keys`, { type: 'personal', userId: 'keeper' }))
      .body.key as string;
    // The last departed member sorts into an overflow lookup document, the first into the main one.
    const actors = ['u00000', 'u69999', 'keeper'];
    const ingest = await call(
      'POST',
      '/api/v1/audit-logs',
      {
        events: actors.map((a) => ({
          action: 'workflow.deployed',
          resourceType: 'workflow',
          resourceId: 'wf_1',
          actorId: a,
        })),
      },
      ingestKey,
    );
    expect(ingest.status).to.be.oneOf([200, 201, 207]);
    await store.indices.refresh({ index: 'audit-logs-*' });

    const page = await call('GET', '/api/v1/audit-logs?action=workflow.deployed', undefined, readKey);
    expect(page.status, JSON.stringify(page.body)).to.equal(200);
    expect(page.body.data.map((e: Json) => e.actorId)).to.deep.equal(['keeper']);
    const all = await call(
      'GET',
      '/api/v1/audit-logs?action=workflow.deployed&includeDeparted=true',
      undefined,
      readKey,
    );
    expect(all.body.data.map((e: Json) => e.actorId).sort()).to.deep.equal([...actors].sort());
    // The page's counts exclude them through the terms lookups, over every lookup document.
    const facets = await call('GET', '/api/v1/audit-logs/facets', undefined, readKey);
    expect(facets.body.actions.find((a: Json) => a.value === 'workflow.deployed')?.count).to.equal(1);
  });

  for (const departedBefore of [2, DROP_DEPARTED_ABOVE + 1]) {
    it(`shows a departure and a return at the next read (${departedBefore} departed before)`, async () => {
      // The read path keeps each org's departed list while its lookup documents are unchanged: a change must
      // be seen at once, with the list in the query (few departed) or dropped in the read path (many).
      const orgId = uniqueId('org');
      await admin('PUT', `/orgs/${orgId}`, { name: 'Comes and goes', plan: 'enterprise' });
      const gone = Array.from({ length: departedBefore }, (_, i) => member(`g${i}`));
      const stay = [member('keeper', 'owner'), member('alice')];
      await admin('PUT', `/orgs/${orgId}/members`, { members: [...gone, ...stay] });
      expect((await admin('PUT', `/orgs/${orgId}/members`, { members: stay })).body.removed).to.equal(
        departedBefore,
      );
      const ingestKey = (await admin('POST', '/ingest-keys', { orgId })).body.key as string;
      const readKey = (await admin('POST', `/orgs/${orgId}/api-keys`, { type: 'personal', userId: 'keeper' }))
        .body.key as string;
      const posted = await call(
        'POST',
        '/api/v1/audit-logs',
        {
          events: ['alice', 'g0'].map((actorId) => ({
            action: 'table.exported',
            resourceType: 'table',
            actorId,
          })),
        },
        ingestKey,
      );
      expect(posted.status, JSON.stringify(posted.body)).to.be.oneOf([200, 201]);
      await store.indices.refresh({ index: 'audit-logs-*' });
      const actors = async () =>
        (await call('GET', '/api/v1/audit-logs?action=table.exported', undefined, readKey)).body.data.map(
          (e: Json) => e.actorId,
        );

      expect(await actors()).to.deep.equal(['alice']);
      expect(await actors()).to.deep.equal(['alice']); // read again: the kept list
      expect((await admin('DELETE', `/orgs/${orgId}/members/alice`)).status).to.equal(200);
      expect(await actors()).to.deep.equal([]);
      const { userId: _, ...back } = member('g0');
      const returned = await admin('PUT', `/orgs/${orgId}/members/g0`, back);
      expect(returned.status, JSON.stringify(returned.body)).to.be.oneOf([200, 201]);
      expect(await actors()).to.deep.equal(['g0']);
    });
  }

  it('pages and exports an org with thousands of departed members without gaps or repeats', async () => {
    // Past DROP_DEPARTED_ABOVE the read path drops departed members' events itself, in batches: a cursor walk
    // and an export must still return exactly the other events, newest first, across day windows.
    const orgId = uniqueId('org');
    await admin('PUT', `/orgs/${orgId}`, { name: 'Many left', plan: 'enterprise' });
    const leaving = Array.from({ length: DROP_DEPARTED_ABOVE + 1000 }, (_, i) => member(`d${i}`));
    const keeper = member('keeper', 'owner');
    expect((await admin('PUT', `/orgs/${orgId}/members`, { members: [...leaving, keeper] })).status).to.equal(
      200,
    );
    expect((await admin('PUT', `/orgs/${orgId}/members`, { members: [keeper] })).body.removed).to.equal(
      leaving.length,
    );
    const ingestKey = (await admin('POST', '/ingest-keys', { orgId })).body.key as string;
    const readKey = (await admin('POST', `/orgs/${orgId}/api-keys`, { type: 'personal', userId: 'keeper' }))
      .body.key as string;

    // 1,300 events of yesterday, a minute apart: by departed members but for the keeper's (first, 800th,
    // last) and the system's (400th, no actor) — runs of hidden events longer than one batch of hits; today's
    // window is empty, so the read also moves on from a window with nothing in it.
    const yesterdayEnd = new Date().setUTCHours(0, 0, 0, 0) - 600_000;
    const shown = new Set([0, 800, 1299]);
    const events = Array.from({ length: 1300 }, (_, i) => ({
      id: `evt_${orgId}_${String(i).padStart(4, '0')}`,
      action: 'workflow.updated',
      resourceType: 'workflow',
      createdAt: new Date(yesterdayEnd - i * 60_000).toISOString(),
      ...(i === 400 ? {} : { actorId: shown.has(i) ? 'keeper' : `d${i % leaving.length}` }),
    }));
    for (let i = 0; i < events.length; i += 1000) {
      const res = await call('POST', '/api/v1/audit-logs', { events: events.slice(i, i + 1000) }, ingestKey);
      expect(res.status, JSON.stringify(res.body.results.find((r: Json) => r.status !== 'created'))).to.equal(
        201,
      );
    }
    await store.indices.refresh({ index: 'audit-logs-*' });
    // (The sync's own audit events, one per member change, are the org's too: the reads filter them out.)
    const expected = events.filter((e) => e.actorId === undefined || e.actorId === 'keeper').map((e) => e.id);

    const walked: string[] = [];
    let cursor: string | undefined;
    do {
      const q = `action=workflow.updated&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page = await call('GET', `/api/v1/audit-logs?${q}`, undefined, readKey);
      expect(page.status, JSON.stringify(page.body)).to.equal(200);
      walked.push(...page.body.data.map((e: Json) => e.id as string));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(walked).to.deep.equal(expected);

    const exported = await fetch(
      `${svc.url}/api/v1/audit-logs/export?format=ndjson&action=workflow.updated`,
      {
        headers: { authorization: `Bearer ${readKey}` },
      },
    );
    const lines = (await exported.text()).trim().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as Json).id)).to.deep.equal(expected);
  });
});
