/**
 * The push streams' API: who may manage streams, what is validated, that secrets are write-only (never in an
 * answer, never in OpenSearch in clear), and that every change is an event in the org's own audit log.
 */
import { expect } from 'chai';
import { INTERNAL } from '../../src/store/names.ts';
import { uniqueId } from '../helpers.ts';
import { createOrg, startReadService, type ReadService, type TestOrg } from '../fixtures/read.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const TOKEN = 'streams-api-operator-token';
const SECRET = `whsec_${Buffer.alloc(24, 7).toString('base64')}`;

describe('push streams API', function () {
  this.timeout(60_000);
  let svc: ReadService;
  let org: TestOrg;
  const created: { orgId: string; id: string }[] = [];

  async function call(method: string, path: string, key: string, body?: unknown) {
    const res = await fetch(`${svc.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as Json, text };
  }

  const webhook = (extra: Json = {}) => ({
    type: 'webhook',
    name: 'SIEM hook',
    settings: { url: 'https://siem.example.com/hook', ...extra },
  });

  async function eventsOf(orgId: string): Promise<Json[]> {
    await svc.store.indices.refresh({ index: 'audit-logs-*' });
    const res = await svc.store.search({
      index: 'audit-logs-*',
      body: {
        size: 200,
        query: { bool: { filter: [{ term: { orgId } }, { term: { resourceType: 'audit_stream' } }] } },
        sort: [{ acceptedAt: 'asc' }],
      } as never,
    });
    return res.body.hits.hits.map((h) => h._source as Json);
  }

  before(async () => {
    // Delivery off in effect: a poll once an hour, so these streams to example.com are never attempted.
    svc = await startReadService({ AUDIT_ADMIN_TOKEN: TOKEN, AUDIT_STREAM_POLL_SECONDS: '3600' });
    org = await createOrg(svc.ctx);
  });
  after(async () => {
    for (const s of created) await call('DELETE', `/api/v1/admin/orgs/${s.orgId}/streams/${s.id}`, TOKEN);
    await svc?.close();
  });

  it('creates a webhook stream for an owner, answering the generated secret once and never again', async () => {
    const res = await call('POST', '/api/v1/audit-logs/streams', org.keys.owner, webhook());
    expect(res.status, res.text).to.equal(201);
    created.push({ orgId: org.orgId, id: res.body.id });
    expect(res.body.secret).to.match(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(res.body).to.include({
      type: 'webhook',
      name: 'SIEM hook',
      status: 'active',
      delivered: 0,
      lagSeconds: 0,
    });
    expect(res.body.settings).to.deep.equal({ url: 'https://siem.example.com/hook' });
    expect(res.body.secretHints).to.deep.equal({ secret: `…${res.body.secret.slice(-4)}` });

    const got = await call('GET', `/api/v1/audit-logs/streams/${res.body.id}`, org.keys.admin);
    expect(got.status).to.equal(200);
    expect(got.text).not.to.include(res.body.secret);
    expect(got.body.secret).to.equal(undefined);
    const list = await call('GET', '/api/v1/audit-logs/streams', org.keys.owner);
    expect(list.body.data.map((s: Json) => s.id)).to.deep.equal([res.body.id]);
    expect(list.text).not.to.include(res.body.secret);

    // Not in OpenSearch in clear either.
    const stored = await svc.store.get({ index: INTERNAL.streams, id: res.body.id });
    expect(JSON.stringify(stored.body._source)).not.to.include(res.body.secret.slice(6));
  });

  it('keeps a given secret and answers only its hint', async () => {
    const res = await call('POST', '/api/v1/audit-logs/streams', org.keys.owner, webhook({ secret: SECRET }));
    expect(res.status, res.text).to.equal(201);
    created.push({ orgId: org.orgId, id: res.body.id });
    expect(res.body.secret).to.equal(undefined);
    expect(res.text).not.to.include(SECRET);
    expect(res.body.secretHints.secret).to.equal(`…${SECRET.slice(-4)}`);
  });

  it('refuses workspace keys, members, ingest keys; operators manage through the operator API', async () => {
    for (const key of [org.keys.workspace, org.keys.member, org.keys.ingest, org.keys.demoted]) {
      const res = await call('POST', '/api/v1/audit-logs/streams', key, webhook());
      expect(res.status, res.text).to.equal(403);
      expect(res.body.code).to.equal('forbidden');
    }
    expect((await call('GET', '/api/v1/audit-logs/streams', org.keys.workspace)).status).to.equal(403);
    expect((await call('GET', '/api/v1/audit-logs/streams', 'alk_wrong')).status).to.equal(401);
    // The operator token is not an API key.
    expect((await call('GET', '/api/v1/audit-logs/streams', TOKEN)).status).to.equal(401);

    const op = await call(
      'POST',
      `/api/v1/admin/orgs/${org.orgId}/streams`,
      TOKEN,
      webhook({ secret: SECRET }),
    );
    expect(op.status, op.text).to.equal(201);
    created.push({ orgId: org.orgId, id: op.body.id });
    const missing = await call('GET', `/api/v1/admin/orgs/${uniqueId('org')}/streams`, TOKEN);
    expect(missing.status).to.equal(404);
    expect((await call('GET', `/api/v1/admin/orgs/${org.orgId}/streams`, org.keys.owner)).status).to.equal(
      401,
    );
  });

  it("does not show or change another org's stream", async () => {
    const other = await createOrg(svc.ctx);
    const theirs = await call(
      'POST',
      '/api/v1/audit-logs/streams',
      other.keys.owner,
      webhook({ secret: SECRET }),
    );
    created.push({ orgId: other.orgId, id: theirs.body.id });
    const peek = await call('GET', `/api/v1/audit-logs/streams/${theirs.body.id}`, org.keys.owner);
    expect(peek.status).to.equal(404);
    const pause = await call('POST', `/api/v1/audit-logs/streams/${theirs.body.id}/pause`, org.keys.owner);
    expect(pause.status).to.equal(404);
    const viaOp = await call('GET', `/api/v1/admin/orgs/${org.orgId}/streams/${theirs.body.id}`, TOKEN);
    expect(viaOp.status).to.equal(404);
  });

  it('validates per type and names the field at fault', async () => {
    const cases: [Json, string][] = [
      [{ ...webhook(), type: 'ftp' }, 'type'],
      [{ type: 'webhook', settings: { url: 'https://a.example' } }, 'name'],
      [webhook({ url: 'not a url' }), 'settings.url'],
      [webhook({ secret: 'plain' }), 'settings.secret'],
      [webhook({ extra: 1 }), 'settings.extra'],
      [
        { type: 's3', name: 'b', settings: { region: 'us-east-1', bucket: 'b1', accessKeyId: 'AK' } },
        'settings.secretAccessKey',
      ],
      [{ ...webhook(), filter: { actions: ['Workflow created'] } }, 'filter.actions.0'],
      // Plain http and private literals are refused already when saved (AUDIT_STREAM_ALLOW_PRIVATE is off).
      [webhook({ url: 'http://siem.example.com/hook' }), 'settings.url'],
      [webhook({ url: 'https://127.0.0.1:8443/hook' }), 'settings.url'],
      [webhook({ url: 'https://169.254.169.254/latest' }), 'settings.url'],
    ];
    for (const [body, param] of cases) {
      const res = await call('POST', '/api/v1/audit-logs/streams', org.keys.owner, body);
      expect(res.status, `${param}: ${res.text}`).to.equal(400);
      expect(res.body.param, res.text).to.equal(param);
    }
    const loop = await call(
      'POST',
      '/api/v1/audit-logs/streams',
      org.keys.owner,
      webhook({ url: 'https://127.0.0.1:8443/hook' }),
    );
    expect(loop.body.error).to.match(/loopback, private or link-local/);
  });

  it('accepts every type of the API, each with its own settings, secrets answered as hints', async () => {
    const s3 = await call('POST', '/api/v1/audit-logs/streams', org.keys.owner, {
      type: 's3',
      name: 'archive',
      settings: {
        region: 'eu-west-1',
        bucket: 'audit-archive',
        accessKeyId: 'AKIAEXAMPLE',
        secretAccessKey: 'verysecretkey123',
      },
      filter: { actions: ['workflow.*', 'api_key.created'] },
    });
    expect(s3.status, s3.text).to.equal(201);
    created.push({ orgId: org.orgId, id: s3.body.id });
    expect(s3.body.settings).to.deep.equal({
      region: 'eu-west-1',
      bucket: 'audit-archive',
      accessKeyId: 'AKIAEXAMPLE',
    });
    expect(s3.body.secretHints).to.deep.equal({ secretAccessKey: '…y123' });
    expect(s3.body.filter).to.deep.equal({ actions: ['workflow.*', 'api_key.created'] });
    const others: [Json, Json][] = [
      [
        {
          type: 'splunk_hec',
          name: 'splunk',
          settings: { url: 'https://splunk.example.com:8088', token: 'hec-token-1234', ack: true },
        },
        { token: '…1234' },
      ],
      [
        {
          type: 'datadog',
          name: 'dd',
          settings: {
            url: 'https://http-intake.logs.datadoghq.eu',
            apiKey: 'dd-api-key-5678',
            tags: ['env:prod'],
          },
        },
        { apiKey: '…5678' },
      ],
      [{ type: 'syslog', name: 'rsyslog', settings: { host: 'logs.example.com', port: 6514 } }, {}],
    ];
    for (const [body, hints] of others) {
      const res = await call('POST', '/api/v1/audit-logs/streams', org.keys.owner, body);
      expect(res.status, res.text).to.equal(201);
      created.push({ orgId: org.orgId, id: res.body.id });
      expect(res.body.secretHints).to.deep.equal(hints);
      for (const secret of ['hec-token-1234', 'dd-api-key-5678']) expect(res.text).not.to.include(secret);
    }
    const badPort = await call('POST', '/api/v1/audit-logs/streams', org.keys.owner, {
      type: 'syslog',
      name: 'rsyslog',
      settings: { host: 'logs.example.com', port: 0 },
    });
    expect(badPort.body.param).to.equal('settings.port');
  });

  it('patches settings keeping secrets left out, pauses, resumes, replays and deletes, each an audit event', async () => {
    const res = await call('POST', '/api/v1/audit-logs/streams', org.keys.owner, webhook({ secret: SECRET }));
    const id = res.body.id as string;
    const base = `/api/v1/audit-logs/streams/${id}`;
    const patched = await call('PATCH', base, org.keys.owner, {
      name: 'Renamed',
      settings: { url: 'https://other.example.com/h' },
    });
    expect(patched.status, patched.text).to.equal(200);
    expect(patched.body).to.include({ name: 'Renamed' });
    expect(patched.body.settings.url).to.equal('https://other.example.com/h');
    expect(patched.body.secretHints.secret).to.equal(`…${SECRET.slice(-4)}`);
    const badPatch = await call('PATCH', base, org.keys.owner, { settings: { url: 'ftp://x' } });
    expect(badPatch.body).to.include({ code: 'invalid_body', param: 'settings.url' });

    expect((await call('POST', `${base}/pause`, org.keys.owner)).body.status).to.equal('paused');
    expect((await call('POST', `${base}/resume`, org.keys.admin)).body.status).to.equal('active');
    const replay = await call('POST', `${base}/replay`, org.keys.owner, { cursor: { seq: 1, leaf: 0 } });
    expect(replay.body.cursor).to.deep.equal({ seq: 1, leaf: 0 });
    const byTime = await call('POST', `${base}/replay`, org.keys.owner, { from: '2000-01-01T00:00:00Z' });
    expect(byTime.status, byTime.text).to.equal(200);
    expect((await call('POST', `${base}/replay`, org.keys.owner, { from: 'yesterday' })).body.param).to.equal(
      'from',
    );
    const del = await call('DELETE', base, org.keys.owner);
    expect(del.body).to.deep.equal({ id, deleted: true });
    expect((await call('GET', base, org.keys.owner)).status).to.equal(404);

    const events = (await eventsOf(org.orgId)).filter((e) => e.resourceId === id);
    expect(events.map((e) => e.action)).to.deep.equal([
      'audit_stream.created',
      'audit_stream.updated',
      'audit_stream.paused',
      'audit_stream.resumed',
      'audit_stream.replayed',
      'audit_stream.replayed',
      'audit_stream.deleted',
    ]);
    expect(events[0]).to.include({ actorId: org.users.owner, resourceName: 'SIEM hook' });
    expect(events[3]).to.include({ actorId: org.users.admin });
    expect(events[1]!.metadata.changed).to.deep.equal(['settings.url', 'name']);
    expect(JSON.stringify(events)).not.to.include(SECRET);
  });
});
