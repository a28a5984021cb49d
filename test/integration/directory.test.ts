/** The directory and the operator API, end to end against the real OpenSearch (and the real ingest path). */
import { expect } from 'chai';
import crypto from 'node:crypto';
import { buildApp } from '../../src/app.ts';
import { hashSecret, parseKey } from '../../src/directory/keys.ts';
import { resolveApiKey } from '../../src/http/auth.ts';
import { createStore } from '../../src/store/client.ts';
import { INTERNAL } from '../../src/store/names.ts';
import type { RunningService } from '../../src/server.ts';
import { startTestService, testConfig, testStore, uniqueId } from '../helpers.ts';
import { runScript, type ScriptResult } from '../scripts.ts';

const TOKEN = `op-${crypto.randomBytes(12).toString('hex')}`;

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('directory: operator API', function () {
  this.timeout(120_000);
  let svc: RunningService;
  const store = testStore();

  before(async () => {
    svc = await startTestService({ AUDIT_ADMIN_TOKEN: TOKEN, AUDIT_LOGS_ENABLED: 'true' });
  });
  after(async () => {
    await svc?.close();
    await store.close();
  });

  async function call(
    method: string,
    path: string,
    body?: unknown,
    opts: { token?: string; raw?: string; type?: string } = {},
  ) {
    const headers: Record<string, string> = { authorization: `Bearer ${opts.token ?? TOKEN}` };
    let payload: string | undefined;
    if (opts.raw !== undefined) {
      payload = opts.raw;
      headers['content-type'] = opts.type ?? 'application/json';
    } else if (body !== undefined) {
      payload = JSON.stringify(body);
      headers['content-type'] = 'application/json';
    }
    const res = await fetch(`${svc.url}/api/v1/admin${path}`, { method, headers, body: payload });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : undefined) as Json };
  }

  const putOrg = (orgId: string, body: Json = { name: 'Acme', plan: 'enterprise' }) =>
    call('PUT', `/orgs/${orgId}`, body);
  const putMember = (orgId: string, userId: string, role = 'member') =>
    call('PUT', `/orgs/${orgId}/members/${userId}`, {
      email: `${userId}@example.com`,
      name: `User ${userId}`,
      role,
    });

  /** The directory events of an org as stored in the day indices, oldest first. */
  async function eventsOf(orgId: string): Promise<Json[]> {
    await store.indices.refresh({ index: 'audit-logs-*' });
    const res = await store.search({
      index: 'audit-logs-*',
      body: { size: 100, query: { term: { orgId } }, sort: [{ createdAt: 'asc' }, { id: 'asc' }] } as never,
    });
    return res.body.hits.hits.map((h) => ({ ...(h._source as Json), _index: h._index }));
  }

  async function membershipDoc(orgId: string): Promise<Json> {
    return (await store.get({ index: INTERNAL.membership, id: orgId })).body._source as Json;
  }

  describe('authentication', () => {
    it('answers 401 with a Bearer challenge for a wrong or missing operator token', async () => {
      const wrong = await call(
        'PUT',
        `/orgs/${uniqueId('org')}`,
        { name: 'x', plan: 'free' },
        { token: 'nope' },
      );
      expect(wrong.status).to.equal(401);
      expect(wrong.headers.get('www-authenticate')).to.match(/^Bearer/);
      expect(wrong.body.code).to.equal('unauthenticated');
      const missing = await fetch(`${svc.url}/api/v1/admin/ingest-keys`, { method: 'POST' });
      expect(missing.status).to.equal(401);
      expect(missing.headers.get('www-authenticate')).to.match(/^Bearer/);
    });

    it('does not accept an API key as the operator token', async () => {
      const orgId = uniqueId('org');
      await putOrg(orgId);
      const { body } = await call('POST', '/ingest-keys', { orgId });
      const res = await call('PUT', `/orgs/${orgId}`, { name: 'x', plan: 'free' }, { token: body.key });
      expect(res.status).to.equal(401);
    });

    it('is disabled when AUDIT_ADMIN_TOKEN is unset: every admin route answers operator_api_disabled', async () => {
      const off = await startTestService({});
      try {
        for (const [method, path] of [
          ['PUT', '/orgs/o1'],
          ['PUT', '/orgs/o1/workspaces/w1'],
          ['PUT', '/orgs/o1/members/u1'],
          ['DELETE', '/orgs/o1/members/u1'],
          ['POST', '/orgs/o1/api-keys'],
          ['POST', '/ingest-keys'],
          ['DELETE', '/api-keys/abc'],
        ] as const) {
          const res = await fetch(`${off.url}/api/v1/admin${path}`, {
            method,
            headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
            body: method === 'DELETE' ? undefined : '{}',
          });
          expect(res.status, `${method} ${path}`).to.equal(404);
          expect((await res.json()).code).to.equal('operator_api_disabled');
        }
      } finally {
        await off.close();
      }
    });
  });

  describe('orgs', () => {
    it('creates (201), leaves unchanged (200), updates (200) and records organization.created/updated', async () => {
      const orgId = uniqueId('org');
      const created = await putOrg(orgId, { name: 'Acme', plan: 'team' });
      expect(created.status).to.equal(201);
      expect(created.body).to.include({ orgId, name: 'Acme', plan: 'team' });
      expect(Date.parse(created.body.createdAt)).to.be.closeTo(Date.now(), 60_000);

      const same = await putOrg(orgId, { name: 'Acme', plan: 'team' });
      expect(same.status).to.equal(200);
      expect(same.body).to.deep.equal(created.body);

      const upgraded = await putOrg(orgId, { name: 'Acme', plan: 'enterprise' });
      expect(upgraded.status).to.equal(200);
      expect(upgraded.body).to.include({ plan: 'enterprise', createdAt: created.body.createdAt });
      const stored = (await store.get({ index: INTERNAL.orgs, id: orgId })).body._source;
      expect(stored).to.deep.equal(upgraded.body);

      const events = await eventsOf(orgId);
      expect(events.map((e) => e.action)).to.deep.equal(['organization.created', 'organization.updated']);
      const [c, u] = events as [Json, Json];
      expect(c).to.include({
        resourceType: 'organization',
        resourceId: orgId,
        resourceName: 'Acme',
        actorName: 'Operator',
      });
      expect(c.actorId ?? null).to.equal(null);
      expect(c.metadata).to.deep.equal({ name: 'Acme', plan: 'team' });
      expect(u.metadata).to.deep.equal({ plan: { from: 'team', to: 'enterprise' } });
      // In the day index of the event's own UTC day.
      const day = new Date(u.createdAt).toISOString();
      expect(u._index).to.equal(`audit-logs-${day.slice(0, 4)}.${day.slice(5, 7)}.${day.slice(8, 10)}`);
    });

    it('records a lost organization.created on the next PUT of the org (a retry after a 5xx), once', async () => {
      const orgId = uniqueId('org');
      // The state a creation leaves when its event could not be written: the org exists, no event does.
      const now = new Date().toISOString();
      await store.index({
        index: INTERNAL.orgs,
        id: orgId,
        refresh: 'wait_for',
        body: { orgId, name: 'Acme', plan: 'team', createdAt: now, updatedAt: now },
      });
      expect(await eventsOf(orgId)).to.deep.equal([]);
      expect((await putOrg(orgId, { name: 'Acme', plan: 'team' })).status).to.equal(200);
      expect((await putOrg(orgId, { name: 'Acme', plan: 'team' })).status).to.equal(200);
      expect((await eventsOf(orgId)).map((e) => e.action)).to.deep.equal(['organization.created']);
    });

    it('refuses bad input with a 400 naming the field, and writes nothing', async () => {
      const orgId = uniqueId('org');
      const cases: [Json | string, string | undefined, string?][] = [
        [{ plan: 'free' }, 'name'],
        [{ name: 'A' }, 'plan'],
        [{ name: 'A', plan: 'gold' }, 'plan'],
        [{ name: 42, plan: 'free' }, 'name'],
        [{ name: '', plan: 'free' }, 'name'],
        [{ name: 'x'.repeat(201), plan: 'free' }, 'name'],
        [{ name: 'A', plan: 'free', owner: 'bob' }, 'owner'],
        ['[1,2]', undefined],
        ['"just a string"', undefined],
        ['{"name": "A", ', undefined],
      ];
      for (const [body, param] of cases) {
        const res =
          typeof body === 'string'
            ? await call('PUT', `/orgs/${orgId}`, undefined, { raw: body })
            : await putOrg(orgId, body);
        expect(res.status, JSON.stringify(body)).to.equal(400);
        expect(res.body.code).to.equal('invalid_body');
        expect(res.body.param, JSON.stringify(body)).to.equal(param);
        if (param) expect(res.body.error).to.include(param);
      }
      const plain = await call('PUT', `/orgs/${orgId}`, undefined, { raw: 'name=A', type: 'text/plain' });
      expect(plain.status).to.equal(400);
      expect(plain.body.error).to.include('application/json');
      const none = await call('PUT', `/orgs/${orgId}`);
      expect(none.status).to.equal(400);
      for (const bad of ['_reserved', 'has%20space', 'x'.repeat(129)]) {
        const res = await call('PUT', `/orgs/${bad}`, { name: 'A', plan: 'free' });
        expect(res.status, bad).to.equal(400);
        expect(res.body).to.include({ code: 'invalid_parameter', param: 'orgId' });
      }
      const exists = await store.exists({ index: INTERNAL.orgs, id: orgId });
      expect(exists.body).to.equal(false);
    });
  });

  describe('workspaces', () => {
    it('creates and renames a workspace, 404 for an unknown org, 400 naming bad fields', async () => {
      const orgId = uniqueId('org');
      expect((await call('PUT', `/orgs/${orgId}/workspaces/ws1`, { name: 'Main' })).status).to.equal(404);
      await putOrg(orgId);
      const created = await call('PUT', `/orgs/${orgId}/workspaces/ws1`, { name: 'Main' });
      expect(created.status).to.equal(201);
      expect(created.body).to.include({ orgId, workspaceId: 'ws1', name: 'Main' });
      const renamed = await call('PUT', `/orgs/${orgId}/workspaces/ws1`, { name: 'Production' });
      expect(renamed.status).to.equal(200);
      expect(renamed.body.name).to.equal('Production');

      for (const [body, param] of [
        [{}, 'name'],
        [{ name: 1 }, 'name'],
        [{ name: 'A', plan: 'x' }, 'plan'],
      ] as const) {
        const res = await call('PUT', `/orgs/${orgId}/workspaces/ws2`, body);
        expect(res.status).to.equal(400);
        expect(res.body.param).to.equal(param);
      }
      const badId = await call('PUT', `/orgs/${orgId}/workspaces/_w`, { name: 'A' });
      expect(badId.body).to.include({ code: 'invalid_parameter', param: 'workspaceId' });

      const events = (await eventsOf(orgId)).filter((e) => e.resourceType === 'workspace');
      expect(events.map((e) => e.action)).to.deep.equal(['workspace.created', 'workspace.updated']);
      expect(events[1]).to.include({ resourceId: 'ws1', workspaceId: 'ws1', resourceName: 'Production' });
      expect(events[1]!.metadata).to.deep.equal({ name: { from: 'Main', to: 'Production' } });
    });
  });

  describe('members and the membership lookup document', () => {
    it('adds, changes the role, departs (kept, marked left), re-joins, each with its own event', async () => {
      const orgId = uniqueId('org');
      expect((await putMember(orgId, 'alice')).status).to.equal(404);
      await putOrg(orgId);
      expect(await membershipDoc(orgId)).to.deep.equal({ orgId, current: [], departed: [] });

      const added = await putMember(orgId, 'alice');
      expect(added.status).to.equal(201);
      expect(added.body).to.include({ orgId, userId: 'alice', email: 'alice@example.com', role: 'member' });
      expect(added.body).to.not.have.property('leftAt');
      await putMember(orgId, 'bob', 'owner');
      expect(await membershipDoc(orgId)).to.deep.equal({ orgId, current: ['alice', 'bob'], departed: [] });

      const promoted = await putMember(orgId, 'alice', 'admin');
      expect(promoted.status).to.equal(200);
      expect(promoted.body).to.include({ role: 'admin', joinedAt: added.body.joinedAt });

      const left = await call('DELETE', `/orgs/${orgId}/members/alice`);
      expect(left.status).to.equal(200);
      expect(left.body).to.include({ userId: 'alice', role: 'admin' });
      expect(Date.parse(left.body.leftAt)).to.be.closeTo(Date.now(), 60_000);
      expect(await membershipDoc(orgId)).to.deep.equal({ orgId, current: ['bob'], departed: ['alice'] });
      const stored = (await store.get({ index: INTERNAL.members, id: `${orgId}:alice` })).body
        ._source as Json;
      expect(stored.leftAt).to.equal(left.body.leftAt);

      const again = await call('DELETE', `/orgs/${orgId}/members/alice`);
      expect(again.status).to.equal(200);
      expect(again.body.leftAt).to.equal(left.body.leftAt);
      expect((await call('DELETE', `/orgs/${orgId}/members/nobody`)).status).to.equal(404);

      const back = await putMember(orgId, 'alice', 'member');
      expect(back.status).to.equal(200);
      expect(back.body).to.not.have.property('leftAt');
      expect(await membershipDoc(orgId)).to.deep.equal({ orgId, current: ['alice', 'bob'], departed: [] });

      const events = (await eventsOf(orgId)).filter((e) => e.resourceType === 'org_member');
      expect(events.map((e) => `${e.action}:${e.resourceId}`)).to.deep.equal([
        'org_member.added:alice',
        'org_member.added:bob',
        'org_member.role_changed:alice',
        'org_member.removed:alice',
        'org_member.added:alice',
      ]);
      expect(events[2]!.metadata).to.deep.equal({ from: 'member', to: 'admin' });
      expect(events[3]!.metadata).to.deep.include({ role: 'admin' });
      expect(events[4]!.metadata).to.deep.include({ rejoined: true, previouslyLeftAt: left.body.leftAt });
      for (const e of events) expect(e.actorName).to.equal('Operator');
    });

    it('refuses bad member input with a 400 naming the field', async () => {
      const orgId = uniqueId('org');
      await putOrg(orgId);
      const ok = { email: 'a@example.com', name: 'A', role: 'member' };
      for (const [body, param] of [
        [{ ...ok, email: 'not-an-email' }, 'email'],
        [{ ...ok, role: 'superuser' }, 'role'],
        [{ email: ok.email, name: ok.name }, 'role'],
        [{ ...ok, name: ['A'] }, 'name'],
        [{ ...ok, leftAt: null }, 'leftAt'],
      ] as const) {
        const res = await call('PUT', `/orgs/${orgId}/members/u1`, body);
        expect(res.status, JSON.stringify(body)).to.equal(400);
        expect(res.body.param).to.equal(param);
      }
      const badUser = await call('PUT', `/orgs/${orgId}/members/bad$user`, ok);
      expect(badUser.body).to.include({ code: 'invalid_parameter', param: 'userId' });
      expect((await store.exists({ index: INTERNAL.members, id: `${orgId}:u1` })).body).to.equal(false);
    });

    it('keeps the lookup document consistent under concurrent joins and departures', async () => {
      const orgId = uniqueId('org');
      await putOrg(orgId);
      const users = Array.from({ length: 24 }, (_, i) => `u${String(i).padStart(2, '0')}`);
      const joins = await Promise.all(users.map((u) => putMember(orgId, u)));
      expect(joins.map((r) => r.status)).to.deep.equal(users.map(() => 201));
      // Half leave while the others change role, all at once.
      const leaving = users.filter((_, i) => i % 2 === 0);
      const staying = users.filter((_, i) => i % 2 === 1);
      const results = await Promise.all([
        ...leaving.map((u) => call('DELETE', `/orgs/${orgId}/members/${u}`)),
        ...staying.map((u) => putMember(orgId, u, 'admin')),
      ]);
      expect(results.map((r) => r.status)).to.deep.equal(results.map(() => 200));
      expect(await membershipDoc(orgId)).to.deep.equal({ orgId, current: staying, departed: leaving });
    });
  });

  describe('single member changes: fast, and seen by every read after them', () => {
    const read = async (key: string, query = '') => {
      const res = await fetch(`${svc.url}/api/v1/audit-logs${query}`, {
        headers: { authorization: `Bearer ${key}` },
      });
      return { status: res.status, body: (await res.json()) as Json };
    };

    it('takes tens of milliseconds per change, not a refresh interval', async () => {
      const orgId = uniqueId('org');
      await putOrg(orgId);
      await putMember(orgId, 'alice');
      const took: number[] = [];
      for (let i = 0; i < 12; i++) {
        const started = performance.now();
        const res =
          i % 3 === 2
            ? await call('DELETE', `/orgs/${orgId}/members/alice`)
            : await putMember(orgId, 'alice', i % 3 === 0 ? 'admin' : 'member');
        took.push(performance.now() - started);
        expect(res.status, JSON.stringify(res.body)).to.be.oneOf([200, 201]);
      }
      took.sort((a, b) => a - b);
      const median = took[took.length >> 1]!;
      expect(median, `median ${Math.round(median)} ms of ${took.map(Math.round).join(', ')}`).to.be.below(
        250,
      );
    });

    it('every read right after a change sees it: keys, the departed filter, listings and a sync', async () => {
      const orgId = uniqueId('org');
      await putOrg(orgId);
      await putMember(orgId, 'boss', 'owner');
      const bossKey = (await call('POST', `/orgs/${orgId}/api-keys`, { type: 'personal', userId: 'boss' }))
        .body.key as string;
      const ingestKey = (await call('POST', '/ingest-keys', { orgId })).body.key as string;
      await putMember(orgId, 'dora');
      const posted = await fetch(`${svc.url}/api/v1/audit-logs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ingestKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ action: 'file.uploaded', resourceType: 'file', actorId: 'dora' }),
      });
      expect(posted.status).to.equal(201);
      await store.indices.refresh({ index: 'audit-logs-*' });
      const doraEvents = async () =>
        (await read(bossKey, '?actorId=dora&includeDeparted=true')).body.data.length as number;
      const listed = async () =>
        ((await read(bossKey, '?resourceType=file')).body.data as Json[]).filter((e) => e.actorId === 'dora')
          .length;
      expect(await doraEvents()).to.equal(1);
      for (let round = 0; round < 3; round++) {
        // Promoted: her new key reads at once.
        await putMember(orgId, 'dora', 'admin');
        const doraKey = (await call('POST', `/orgs/${orgId}/api-keys`, { type: 'personal', userId: 'dora' }))
          .body.key as string;
        expect((await read(doraKey)).status).to.equal(200);
        // Departed: her events leave the list at once, and a sync sees her state.
        expect((await call('DELETE', `/orgs/${orgId}/members/dora`)).status).to.equal(200);
        expect(await listed()).to.equal(0);
        expect((await read(doraKey)).status).to.equal(403);
        const sync = await call('PUT', `/orgs/${orgId}/members`, {
          members: [{ userId: 'boss', email: 'boss@example.com', name: 'User boss', role: 'owner' }],
        });
        expect(sync.status, JSON.stringify(sync.body)).to.equal(200);
        expect(sync.body).to.deep.equal({ added: 0, updated: 0, removed: 0, unchanged: 1 });
        // Back as a member: her events show at once.
        expect((await putMember(orgId, 'dora')).status).to.equal(200);
        expect(await listed()).to.equal(1);
      }
    });
  });

  describe('API keys', () => {
    let orgId: string;
    before(async () => {
      orgId = uniqueId('org');
      await putOrg(orgId);
      await putMember(orgId, 'owner1', 'owner');
      await putMember(orgId, 'gone', 'admin');
      await call('DELETE', `/orgs/${orgId}/members/gone`);
      await call('PUT', `/orgs/${orgId}/workspaces/ws1`, { name: 'Main' });
    });

    it('creates each kind, shows the secret once, stores only its hash', async () => {
      const personal = await call('POST', `/orgs/${orgId}/api-keys`, { type: 'personal', userId: 'owner1' });
      const workspace = await call('POST', `/orgs/${orgId}/api-keys`, {
        type: 'workspace',
        workspaceId: 'ws1',
        createdBy: 'owner1',
      });
      const ingest = await call('POST', '/ingest-keys', { orgId });
      for (const res of [personal, workspace, ingest]) {
        expect(res.status).to.equal(201);
        expect(Object.keys(res.body).sort()).to.deep.equal(['id', 'key']);
        const parsed = parseKey(res.body.key)!;
        expect(parsed.id).to.equal(res.body.id);
        const stored = (await store.get({ index: INTERNAL.apiKeys, id: res.body.id })).body._source as Json;
        expect(stored.hash).to.equal(hashSecret(parsed.secret));
        expect(JSON.stringify(stored)).to.not.include(parsed.secret);
        // The secret appears nowhere in OpenSearch: not in the directory, not in the audit events.
        await store.indices.refresh({ index: 'audit-logs-*,audit-internal-*' });
        const found = await store.search({
          index: 'audit-logs-*,audit-internal-*',
          body: {
            query: { simple_query_string: { query: `"${parsed.secret}"`, fields: ['*'], lenient: true } },
          } as never,
        });
        expect(found.body.hits.hits).to.deep.equal([]);
      }
      expect(await resolveApiKey(ctxOf(), personal.body.key)).to.deep.equal({
        kind: 'personal',
        keyId: personal.body.id,
        orgId,
        userId: 'owner1',
        keyCreatedAt: (await store.get({ index: INTERNAL.apiKeys, id: personal.body.id })).body._source!
          .createdAt,
      });
      expect(await resolveApiKey(ctxOf(), workspace.body.key)).to.deep.include({
        kind: 'workspace',
        workspaceId: 'ws1',
      });
      expect(await resolveApiKey(ctxOf(), ingest.body.key)).to.deep.equal({
        kind: 'ingest',
        keyId: ingest.body.id,
        orgId,
      });

      const events = (await eventsOf(orgId)).filter((e) => e.action === 'api_key.created');
      expect(events.map((e) => e.resourceId).sort()).to.deep.equal(
        [personal.body.id, workspace.body.id, ingest.body.id].sort(),
      );
      const wsEvent = events.find((e) => e.resourceId === workspace.body.id)!;
      expect(wsEvent.metadata).to.deep.equal({
        kind: 'workspace',
        orgId,
        workspaceId: 'ws1',
        createdBy: 'owner1',
      });
      expect(wsEvent.workspaceId).to.equal('ws1');
    });

    it('creates an ingest key bound to no org, recorded under the reserved operator org', async () => {
      const res = await call('POST', '/ingest-keys');
      expect(res.status).to.equal(201);
      expect(await resolveApiKey(ctxOf(), res.body.key)).to.deep.equal({
        kind: 'ingest',
        keyId: res.body.id,
      });
      const events = (await eventsOf('_operator')).filter((e) => e.resourceId === res.body.id);
      expect(events.map((e) => e.action)).to.deep.equal(['api_key.created']);
    });

    it('refuses bad key requests with a 400 naming the field, 404 for an unknown org', async () => {
      const cases: [Json, string][] = [
        [{}, 'type'],
        [{ type: 'ingest' }, 'type'],
        [{ type: 'personal' }, 'userId'],
        [{ type: 'personal', userId: 'owner1', workspaceId: 'ws1' }, 'workspaceId'],
        [{ type: 'personal', userId: 'stranger' }, 'userId'],
        [{ type: 'personal', userId: 'gone' }, 'userId'],
        [{ type: 'workspace', workspaceId: 'ws1' }, 'createdBy'],
        [{ type: 'workspace', workspaceId: 'nope', createdBy: 'owner1' }, 'workspaceId'],
        [{ type: 'workspace', workspaceId: 'ws1', createdBy: 'gone' }, 'createdBy'],
      ];
      for (const [body, param] of cases) {
        const res = await call('POST', `/orgs/${orgId}/api-keys`, body);
        expect(res.status, JSON.stringify(body)).to.equal(400);
        expect(res.body.param, JSON.stringify(body)).to.equal(param);
      }
      expect(
        (await call('POST', `/orgs/${uniqueId('org')}/api-keys`, { type: 'personal', userId: 'x' })).status,
      ).to.equal(404);
      expect((await call('POST', '/ingest-keys', { orgId: uniqueId('org') })).status).to.equal(404);
      const extra = await call('POST', '/ingest-keys', { orgId, scopes: ['write'] });
      expect(extra.body).to.include({ code: 'invalid_body', param: 'scopes' });
    });

    it('leaves the keys of a departed member void when they rejoin; a new key reads', async () => {
      const org = uniqueId('org');
      await putOrg(org);
      await putMember(org, 'carol', 'admin');
      await call('PUT', `/orgs/${org}/workspaces/wsc`, { name: 'C' });
      const personal = (await call('POST', `/orgs/${org}/api-keys`, { type: 'personal', userId: 'carol' }))
        .body.key as string;
      const workspace = (
        await call('POST', `/orgs/${org}/api-keys`, {
          type: 'workspace',
          workspaceId: 'wsc',
          createdBy: 'carol',
        })
      ).body.key as string;
      const read = async (key: string) => {
        const res = await fetch(`${svc.url}/api/v1/audit-logs`, {
          headers: { authorization: `Bearer ${key}` },
        });
        return { status: res.status, body: (await res.json()) as Json };
      };
      expect((await read(personal)).status).to.equal(200);
      expect((await read(workspace)).status).to.equal(200);
      await call('DELETE', `/orgs/${org}/members/carol`);
      expect((await read(personal)).status).to.equal(403);
      expect((await read(workspace)).status).to.equal(403);
      expect((await putMember(org, 'carol', 'admin')).status).to.equal(200);
      for (const key of [personal, workspace]) {
        const again = await read(key);
        expect(again.status).to.equal(403);
        expect(again.body.error).to.match(/joined again on .*keys of an earlier membership stay void/);
      }
      const fresh = (await call('POST', `/orgs/${org}/api-keys`, { type: 'personal', userId: 'carol' })).body
        .key as string;
      expect((await read(fresh)).status).to.equal(200);
    });

    it('revokes any kind of key: 401 with a Bearer challenge afterwards, stored revokedAt, never the hash', async () => {
      const personal = await call('POST', `/orgs/${orgId}/api-keys`, { type: 'personal', userId: 'owner1' });
      const ingest = await call('POST', '/ingest-keys', { orgId });
      for (const created of [personal, ingest]) {
        const revoked = await call('DELETE', `/api-keys/${created.body.id}`);
        expect(revoked.status).to.equal(200);
        expect(revoked.body).to.include({ id: created.body.id });
        expect(revoked.body).to.not.have.property('hash');
        expect(Date.parse(revoked.body.revokedAt)).to.be.closeTo(Date.now(), 60_000);
        expect(await resolveApiKey(ctxOf(), created.body.key)).to.equal(undefined);
        const again = await call('DELETE', `/api-keys/${created.body.id}`);
        expect(again.body.revokedAt).to.equal(revoked.body.revokedAt);
      }
      // A real /api/v1 route refuses the revoked keys.
      const read = await fetch(`${svc.url}/api/v1/audit-logs`, {
        headers: { authorization: `Bearer ${personal.body.key}` },
      });
      expect(read.status).to.equal(401);
      expect(read.headers.get('www-authenticate')).to.match(/^Bearer/);
      const write = await fetch(`${svc.url}/api/v1/audit-logs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ingest.body.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ action: 'workflow.created', resourceType: 'workflow' }),
      });
      expect(write.status).to.equal(401);
      expect(write.headers.get('www-authenticate')).to.match(/^Bearer/);

      expect((await call('DELETE', '/api-keys/0123456789abcdef')).status).to.equal(404);
      const revokedEvents = (await eventsOf(orgId)).filter((e) => e.action === 'api_key.revoked');
      expect(revokedEvents.map((e) => e.resourceId).sort()).to.deep.equal(
        [personal.body.id, ingest.body.id].sort(),
      );
    });
  });

  describe('npm run admin', () => {
    /** Runs the admin script as an operator would, against the test engine; never throws. */
    function admin(...args: string[]): Promise<ScriptResult> {
      return runScript('admin', args);
    }

    it('lists its commands with --help', async () => {
      const { code, stdout } = await admin('--help');
      expect(code).to.equal(0);
      for (const c of [
        'org:put',
        'org:show',
        'workspace:put',
        'member:put',
        'member:remove',
        'key:create',
        'key:revoke',
      ]) {
        expect(stdout).to.include(c);
      }
    });

    it('creates an org, a workspace, members and keys, shows them, and revokes a key', async () => {
      const orgId = uniqueId('org');
      const put = await admin('org:put', orgId, '--name', 'Acme Inc.', '--plan', 'enterprise');
      expect(put.code, put.stderr).to.equal(0);
      expect(put.stdout).to.include(`Created organization ${orgId}`);
      expect((await admin('workspace:put', orgId, 'ws_main', '--name', 'Main')).code).to.equal(0);
      for (const [userId, role] of [
        ['usr_alice', 'owner'],
        ['usr_bob', 'member'],
      ]) {
        const res = await admin(
          'member:put',
          orgId,
          userId!,
          '--email',
          `${userId}@acme.com`,
          '--name',
          userId!,
          '--role',
          role!,
        );
        expect(res.code, res.stderr).to.equal(0);
      }
      const ingest = await admin('key:create', 'ingest', '--org', orgId);
      expect(ingest.code, ingest.stderr).to.equal(0);
      const printed = /alk_[a-z0-9]{16}_[A-Za-z0-9_-]{43}/.exec(ingest.stdout)![0];
      expect(ingest.stdout).to.include('shown only this once');
      expect(await resolveApiKey(ctxOf(), printed)).to.deep.include({ kind: 'ingest', orgId });

      const personal = await admin('key:create', 'personal', '--org', orgId, '--user', 'usr_alice', '--json');
      const { id, key } = JSON.parse(personal.stdout);
      expect(await resolveApiKey(ctxOf(), key)).to.deep.include({ kind: 'personal', userId: 'usr_alice' });
      expect((await admin('member:remove', orgId, 'usr_bob')).code).to.equal(0);

      const shown = JSON.parse((await admin('org:show', orgId, '--json')).stdout);
      expect(shown.org).to.include({ orgId, name: 'Acme Inc.', plan: 'enterprise' });
      expect(shown.workspaces.map((w: Json) => w.workspaceId)).to.deep.equal(['ws_main']);
      expect(shown.members.map((m: Json) => [m.userId, m.role, Boolean(m.leftAt)])).to.deep.equal([
        ['usr_alice', 'owner', false],
        ['usr_bob', 'member', true],
      ]);
      expect(shown.keys).to.have.length(2);
      expect(JSON.stringify(shown)).to.not.include('hash');
      const table = (await admin('org:show', orgId)).stdout;
      expect(table).to.match(/usr_bob .* left/);

      const revoked = await admin('key:revoke', id);
      expect(revoked.code).to.equal(0);
      expect(await resolveApiKey(ctxOf(), key)).to.equal(undefined);
      expect(await membershipDoc(orgId)).to.deep.equal({
        orgId,
        current: ['usr_alice'],
        departed: ['usr_bob'],
      });
      const actions = (await eventsOf(orgId)).map((e) => e.action);
      expect(actions).to.include.members([
        'organization.created',
        'workspace.created',
        'org_member.added',
        'org_member.removed',
        'api_key.created',
        'api_key.revoked',
      ]);
    });

    it('exits 1 with a message naming the field for bad input', async () => {
      const orgId = uniqueId('org');
      const bad = await admin('org:put', orgId, '--name', 'A', '--plan', 'gold');
      expect(bad.code).to.equal(1);
      expect(bad.stderr).to.include('plan');
      const missing = await admin('member:put', orgId, 'u1', '--email', 'a@b.co', '--name', 'A');
      expect(missing.code).to.equal(1);
      expect(missing.stderr).to.include('--role');
      const unknown = await admin('member:remove', orgId, 'u1');
      expect(unknown.code).to.equal(1);
      expect(unknown.stderr).to.include(`Organization "${orgId}"`);
    });
  });

  it('fails loudly (503 + Retry-After) and acknowledges nothing when OpenSearch is unreachable', async () => {
    const ctx = { cfg: testConfig({ AUDIT_ADMIN_TOKEN: TOKEN }), store: createStore('http://127.0.0.1:9') };
    const app = buildApp(ctx);
    const server = app.listen(0);
    await new Promise((r) => server.once('listening', r));
    try {
      const { port } = server.address() as { port: number };
      const res = await fetch(`http://127.0.0.1:${port}/api/v1/admin/orgs/${uniqueId('org')}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'A', plan: 'free' }),
      });
      expect(res.status).to.equal(503);
      expect(res.headers.get('retry-after')).to.match(/^\d+$/);
      expect((await res.json()).code).to.equal('storage_unavailable');
    } finally {
      server.close();
      server.closeAllConnections();
      await ctx.store.close();
    }
  });

  function ctxOf() {
    return { cfg: testConfig(), store: svc.store };
  }
});
