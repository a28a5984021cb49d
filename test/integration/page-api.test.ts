/**
 * The admin page's API endpoints on the real engine: /histogram, /facets and /export apply the list's scope and
 * filters (tenant isolation, workspace keys, the departed rule), and refuse what they cannot honour.
 */
import { expect } from 'chai';
import type { AuditEntry } from '../../src/events/schema.ts';
import { createApiKey } from '../../src/directory/api-keys.ts';
import { putMember, removeMember } from '../../src/directory/members.ts';
import { uniqueId } from '../helpers.ts';
import {
  createPageOrg,
  ingest,
  parseCsv,
  startPageService,
  YEAR,
  type PageOrg,
  type PageService,
} from '../fixtures/page.ts';

const RANGE = `startDate=${YEAR}-07-01&endDate=${YEAR}-07-31`;

describe('admin page API: histogram, facets, export', function () {
  this.timeout(60_000);
  let service: PageService;
  let org: PageOrg;
  let other: PageOrg;
  let workspaceKey: string;
  const departedId = uniqueId('usr');

  async function get(path: string, key = org.owner.key) {
    const res = await fetch(`${service.url}/api/v1/audit-logs${path}`, {
      headers: { authorization: `Bearer ${key}` },
    });
    return { status: res.status, headers: res.headers, text: await res.text() };
  }
  const json = async (path: string, key?: string) => JSON.parse((await get(path, key)).text);

  before(async () => {
    service = await startPageService();
    org = await createPageOrg(service.ctx);
    other = await createPageOrg(service.ctx);
    await putMember(service.ctx, org.orgId, departedId, {
      email: 'gone@acme.example',
      name: 'Gone',
      role: 'member',
    });
    workspaceKey = (
      await createApiKey(service.ctx, org.orgId, {
        type: 'workspace',
        workspaceId: org.workspaceId,
        createdBy: org.owner.id,
      })
    ).key;
    const day = (d: number, h = 12) => new Date(Date.UTC(YEAR, 6, d, h)).toISOString();
    await ingest(service.ctx, org.orgId, [
      // July 1st: 3 in the workspace; July 10th: 2 outside it, 1 by the member who leaves.
      ...[1, 2, 3].map((i) => ({
        action: 'workflow.created',
        resourceType: 'workflow',
        resourceName: `W${i}`,
        workspaceId: org.workspaceId,
        createdAt: day(1, i),
      })),
      { action: 'table.deleted', resourceType: 'table', resourceName: 'T1', createdAt: day(10) },
      { action: 'table.deleted', resourceType: 'table', resourceName: 'T2', createdAt: day(10, 13) },
      {
        action: 'file.uploaded',
        resourceType: 'file',
        resourceName: 'F',
        actorId: departedId,
        createdAt: day(10, 14),
      },
    ]);
    await removeMember(service.ctx, org.orgId, departedId);
    await ingest(service.ctx, other.orgId, [
      { action: 'secret_provenance.unrecorded', resourceType: 'secret_provenance', createdAt: day(1) },
    ]);
  });

  after(async () => {
    await service?.close();
  });

  it('histogram: daily buckets across the range, counts and total equal to what the list returns', async () => {
    const h = await json(`/histogram?${RANGE}`);
    expect(h.interval).to.equal('1d');
    expect(h.total).to.equal(5); // the departed member's event is excluded, as in the list
    const byDay = Object.fromEntries(
      h.buckets
        .filter((b: { count: number }) => b.count)
        .map((b: { start: string; count: number }) => [b.start.slice(0, 10), b.count]),
    );
    expect(byDay).to.deep.equal({ [`${YEAR}-07-01`]: 3, [`${YEAR}-07-10`]: 2 });
    expect(h.buckets[0].start).to.equal(`${YEAR}-07-01T00:00:00.000Z`);
    expect(h.buckets.at(-1).start).to.equal(`${YEAR}-07-31T00:00:00.000Z`);

    const withDeparted = await json(`/histogram?${RANGE}&includeDeparted=true`);
    expect(withDeparted.total).to.equal(6);
    expect((await json(`/histogram?${RANGE}&action=table.deleted`)).total).to.equal(2);
    expect((await json(`/histogram?${RANGE}&search=W2`)).total).to.equal(1);
    // A workspace key sees only its workspace.
    expect((await json(`/histogram?${RANGE}`, workspaceKey)).total).to.equal(3);
  });

  it('facets: the actions and resource types of this org only, with counts and the destructive flag', async () => {
    const f = await json('/facets');
    const actions = Object.fromEntries(f.actions.map((a: { value: string }) => [a.value, a]));
    expect(actions['table.deleted']).to.deep.equal({ value: 'table.deleted', count: 2, destructive: true });
    expect(actions['workflow.created']).to.include({ count: 3, destructive: false });
    expect(actions).to.not.have.property('secret_provenance.unrecorded');
    expect(f.resourceTypes.map((r: { value: string }) => r.value)).to.include.members(['workflow', 'table']);
    // Like the list, the menus leave out departed members' events unless includeDeparted is on.
    expect(actions).to.not.have.property('file.uploaded');
    expect(f.resourceTypes.map((r: { value: string }) => r.value)).to.not.include('file');
    const all = await json('/facets?includeDeparted=true');
    expect(all.actions.find((a: { value: string }) => a.value === 'file.uploaded')).to.include({ count: 1 });
    expect(all.resourceTypes.map((r: { value: string }) => r.value)).to.include('file');
    expect(JSON.parse((await get('/facets?includeDeparted=maybe')).text)).to.include({
      code: 'invalid_parameter',
      param: 'includeDeparted',
    });
  });

  it('export: CSV and NDJSON of exactly the filtered entries, newest first, as a download', async () => {
    const list = (await json(`?${RANGE}&limit=100`)).data as AuditEntry[];
    const nd = await get(`/export?format=ndjson&${RANGE}`);
    expect(nd.status).to.equal(200);
    expect(nd.headers.get('content-type')).to.match(/^application\/x-ndjson/);
    expect(nd.headers.get('content-disposition')).to.match(
      new RegExp(`attachment; filename="audit-logs-${org.orgId}-.*\\.ndjson"`),
    );
    expect(
      nd.text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).to.deep.equal(list);

    const csv = await get(`/export?${RANGE}&action=table.deleted`);
    expect(csv.headers.get('content-type')).to.match(/^text\/csv/);
    const rows = parseCsv(csv.text);
    expect(rows.slice(1).map((r) => r[4])).to.deep.equal(['T2', 'T1']);

    const ws = await get(`/export?format=ndjson&${RANGE}`, workspaceKey);
    expect(ws.text.trim().split('\n')).to.have.length(3);
  });

  it('refuses what it cannot honour, and keys that may not read', async () => {
    const bad = await get('/export?format=xml');
    expect(bad.status).to.equal(400);
    expect(JSON.parse(bad.text)).to.include({ code: 'invalid_parameter', param: 'format' });
    expect(JSON.parse((await get('/histogram?cursor=abc')).text)).to.include({ param: 'cursor' });
    expect(JSON.parse((await get('/histogram?bogus=1')).text)).to.include({
      code: 'unknown_parameter',
      param: 'bogus',
    });
    expect(JSON.parse((await get('/facets?x=1')).text)).to.include({ code: 'unknown_parameter' });
    expect((await get('/export', org.memberKey)).status).to.equal(403);
    expect((await get('/histogram', 'alk_nope')).status).to.equal(401);
    const other = await get(`/histogram?workspaceId=${uniqueId('ws')}`);
    expect(JSON.parse(other.text)).to.include({ param: 'workspaceId' });
  });
});
