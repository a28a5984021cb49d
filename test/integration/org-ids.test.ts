/**
 * Ids may contain `:`, so org `acme` + `x:alice` and org `acme:x` + `alice` must stay two records of two orgs,
 * for every kind of record; and records of an org with `:` stored under the old ids are moved at start.
 */
import { expect } from 'chai';
import crypto from 'node:crypto';
import { createApiKey } from '../../src/directory/api-keys.ts';
import { getMember, putMember } from '../../src/directory/members.ts';
import { getWorkspace, putWorkspace } from '../../src/directory/workspaces.ts';
import { verifyOrg } from '../../src/integrity/verify.ts';
import { ingestEvents } from '../../src/ingest/ingest.ts';
import { dayIndex, eventDocId, INTERNAL, orgRecordId } from '../../src/store/names.ts';
import type { Change } from '../../src/store/bootstrap.ts';
import { migrateOrgRecordIds } from '../../src/store/org-record-ids.ts';
import { sealId } from '../../src/store/seal-doc.ts';
import { seedIngestKey, seedOrg, uniqueId } from '../helpers.ts';
import { ledgerEntry, postEvents } from '../fixtures/ingest.ts';
import { sealAll, testKey, uniqueDay } from '../fixtures/integrity.ts';
import { get, startReadService, type ReadService } from '../fixtures/read.ts';
import { runScript } from '../scripts.ts';

const TOKEN = `op-${crypto.randomBytes(12).toString('hex')}`;

describe('ids of orgs whose id contains ":"', function () {
  this.timeout(180_000);
  let svc: ReadService;

  before(async () => {
    svc = await startReadService({ AUDIT_ADMIN_TOKEN: TOKEN });
  });
  after(() => svc?.close());

  async function admin(method: string, path: string, body?: unknown) {
    const res = await fetch(`${svc.url}/api/v1/admin${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }

  /** Two orgs whose old ids could meet: `<base>` and `<base>:x`. */
  async function orgPair(): Promise<[string, string]> {
    const base = uniqueId('acme');
    const pair: [string, string] = [base, `${base}:x`];
    for (const orgId of pair)
      expect((await admin('PUT', `/orgs/${orgId}`, { name: orgId, plan: 'enterprise' })).status).to.equal(
        201,
      );
    return pair;
  }

  const memberBody = (email: string, role = 'member') => ({ email, name: email, role });

  /** A personal key of a new owner of the org: a reader of the whole org. */
  async function reader(orgId: string): Promise<string> {
    const userId = uniqueId('own');
    await putMember(svc.ctx, orgId, userId, { email: `${userId}@example.com`, name: userId, role: 'owner' });
    return (await createApiKey(svc.ctx, orgId, { type: 'personal', userId })).key;
  }

  async function readEvent(key: string, id: string) {
    await svc.store.indices.refresh({ index: 'audit-logs-*' });
    return get(svc.url, `/api/v1/audit-logs/${id}`, key);
  }

  async function verifyClean(orgId: string) {
    await sealAll(svc.ctx, orgId);
    const report = await verifyOrg(svc.store, { orgId, publicKey: testKey, lateGraceMs: 600_000 });
    expect(report.problems, `verify ${orgId}`).to.deep.equal([]);
    expect(report.clean).to.equal(true);
    return report;
  }

  it('keeps a member of each org apart (PUT on one never changes the other)', async () => {
    const [acme, acmeX] = await orgPair();
    expect(
      (await admin('PUT', `/orgs/${acme}/members/x:alice`, memberBody('acme@example.com'))).status,
    ).to.equal(201);
    expect(
      (await admin('PUT', `/orgs/${acmeX}/members/alice`, memberBody('acmex@example.com', 'admin'))).status,
    ).to.equal(201);
    expect(await getMember(svc.ctx, acme, 'x:alice')).to.include({
      orgId: acme,
      email: 'acme@example.com',
      role: 'member',
    });
    expect(await getMember(svc.ctx, acmeX, 'alice')).to.include({
      orgId: acmeX,
      email: 'acmex@example.com',
      role: 'admin',
    });
  });

  it('keeps a workspace of each org apart', async () => {
    const [acme, acmeX] = await orgPair();
    expect((await admin('PUT', `/orgs/${acmeX}/workspaces/w`, { name: 'of acme:x' })).status).to.equal(201);
    expect((await admin('PUT', `/orgs/${acme}/workspaces/x:w`, { name: 'of acme' })).status).to.equal(201);
    expect(await getWorkspace(svc.ctx, acmeX, 'w')).to.include({ orgId: acmeX, name: 'of acme:x' });
    expect(await getWorkspace(svc.ctx, acme, 'x:w')).to.include({ orgId: acme, name: 'of acme' });
  });

  it('refuses a personal key for a user who never joined, though the other org has a look-alike member', async () => {
    const [acme, acmeX] = await orgPair();
    await admin('PUT', `/orgs/${acme}/members/x:alice`, memberBody('alice@example.com', 'owner'));
    const res = await admin('POST', `/orgs/${acmeX}/api-keys`, { type: 'personal', userId: 'alice' });
    expect(res.status).to.equal(400);
    expect(res.body).to.include({ param: 'userId' });
  });

  it('refuses a workspace key for a workspace only the other org has', async () => {
    const [acme, acmeX] = await orgPair();
    await admin('PUT', `/orgs/${acme}/workspaces/x:w`, { name: 'of acme' });
    await admin('PUT', `/orgs/${acmeX}/members/bob`, memberBody('bob@example.com', 'admin'));
    const res = await admin('POST', `/orgs/${acmeX}/api-keys`, {
      type: 'workspace',
      workspaceId: 'w',
      createdBy: 'bob',
    });
    expect(res.status).to.equal(400);
    expect(res.body).to.include({ param: 'workspaceId' });
  });

  for (const first of ['acme', 'acme:x'] as const) {
    it(`stores both events when ${first} ingests first ("x:pre1" for acme, "pre1" for acme:x); each reads only its own`, async () => {
      const [acme, acmeX] = await orgPair();
      const keys = {
        acme: await seedIngestKey(svc.ctx, acme),
        'acme:x': await seedIngestKey(svc.ctx, acmeX),
      };
      const ids = { acme: 'x:pre1', 'acme:x': 'pre1' };
      const post = (who: 'acme' | 'acme:x') =>
        postEvents(svc.url, keys[who], {
          id: ids[who],
          action: 'file.deleted',
          resourceType: 'file',
          description: `by ${who}`,
        });
      const second: 'acme' | 'acme:x' = first === 'acme' ? 'acme:x' : 'acme';
      for (const who of [first, second]) {
        const res = await post(who);
        expect(res.status, `${who}: ${JSON.stringify(res.body)}`).to.equal(201);
        expect(res.body.results).to.deep.equal([{ id: ids[who], status: 'created' }]);
      }
      // A retry of each is a duplicate of its own event only.
      for (const who of [first, second])
        expect((await post(who)).body.results[0].status).to.equal('duplicate');

      const readers = { acme: await reader(acme), 'acme:x': await reader(acmeX) };
      const mine = await readEvent(readers['acme:x'], 'pre1');
      expect(mine.status).to.equal(200);
      expect(mine.body).to.include({ id: 'pre1', description: 'by acme:x' });
      expect((await readEvent(readers.acme, 'x:pre1')).body).to.include({
        id: 'x:pre1',
        description: 'by acme',
      });
      expect((await readEvent(readers['acme:x'], 'x:pre1')).status).to.equal(404);
      expect((await readEvent(readers.acme, 'pre1')).status).to.equal(404);

      for (const orgId of [acme, acmeX]) {
        const report = await verifyClean(orgId);
        expect(report.events.sealedChecked).to.be.greaterThan(0);
      }
      // Each org's chain is its own: seal 1 of each, under its own id.
      for (const orgId of [acme, acmeX]) {
        const seal = await svc.store.get({ index: INTERNAL.seals, id: sealId(orgId, 1) });
        expect((seal.body._source as { orgId: string }).orgId).to.equal(orgId);
      }
    });
  }

  describe('records of an org with ":" stored under the old ids', () => {
    // The move runs at start, before the instance's sealer does: the service's own sealer must not seal (and
    // mark) these orgs while a test lays their records back at the old ids. Tests seal explicitly.
    before(() => svc.sealer?.halt());
    const legacyId = (orgId: string, key: string) => `${orgId}:${key}`;

    /** Moves an internal record back to its old id, as a store written before the fix holds it. */
    async function toLegacy(index: string, id: string, oldId: string, keepNew = false) {
      const doc = await svc.store.get({ index, id });
      await svc.store.create({ index, id: oldId, body: doc.body._source as object });
      if (!keepNew) await svc.store.delete({ index, id });
    }

    /** Re-creates a day index (append-only again, from the template) with its events under their old ids. */
    async function dayIndexToLegacy(index: string, orgId: string) {
      await svc.store.indices.refresh({ index });
      const res = await svc.store.search({ index, body: { size: 100, query: { match_all: {} } } });
      const docs = res.body.hits.hits.map((h) => h._source as { orgId: string; id: string });
      expect(docs.every((d) => d.orgId === orgId)).to.equal(true);
      await svc.store.indices.delete({ index });
      const bulk = await svc.store.bulk({
        refresh: true,
        body: docs.flatMap((d) => [{ create: { _index: index, _id: legacyId(orgId, d.id) } }, d]),
      });
      expect(bulk.body.errors).to.equal(false);
    }

    /**
     * An org `<base>:y` with a workspace, a member and sealed events on one old day, all under the old ids
     * (the member under both, as a crash half-way through an earlier move leaves it); and its neighbour
     * `<base>`, whose member `y:carol` has an id of the same shape.
     */
    async function legacyOrg({ sealed } = { sealed: true }) {
      const orgId = await seedOrg(svc.ctx, `${uniqueId('old')}:y`);
      await putWorkspace(svc.ctx, orgId, 'ws:1', { name: 'Old workspace' });
      await putMember(svc.ctx, orgId, 'bob', { email: 'bob@example.com', name: 'Bob', role: 'owner' });
      const day = uniqueDay();
      const at = (i: number) => new Date(Date.parse(`${day}T10:00:00Z`) + i * 1000).toISOString();
      const ids = ['e:1', 'e:2', 'e3'];
      const results = await ingestEvents(
        svc.ctx,
        { boundOrgId: orgId },
        ids.map((id, i) => ({ id, action: 'file.deleted', resourceType: 'file', createdAt: at(i) })),
      );
      expect(results.map((r) => r.status)).to.deep.equal(['created', 'created', 'created']);
      if (sealed) await sealAll(svc.ctx, orgId);
      const index = dayIndex(at(0));
      await toLegacy(INTERNAL.members, orgRecordId(orgId, 'bob'), legacyId(orgId, 'bob'), true);
      await toLegacy(INTERNAL.workspaces, orgRecordId(orgId, 'ws:1'), legacyId(orgId, 'ws:1'));
      for (const id of ids) await toLegacy(INTERNAL.ledger, eventDocId(orgId, id), legacyId(orgId, id));
      if (sealed) await toLegacy(INTERNAL.seals, sealId(orgId, 1), legacyId(orgId, '000000000001'));
      await dayIndexToLegacy(index, orgId);
      await svc.store.delete({ index: INTERNAL.service, id: `record-ids-done:${orgId}` }, { ignore: [404] });
      const neighbour = await seedOrg(svc.ctx, orgId.slice(0, orgId.indexOf(':')));
      await putMember(svc.ctx, neighbour, 'y:carol', {
        email: 'carol@example.com',
        name: 'Carol',
        role: 'member',
      });
      return { orgId, ids, at, neighbour };
    }

    it('moves the directory, ledger and seals (npm run setup, as at start); events read at their old ids; verify clean', async () => {
      const { orgId, ids, neighbour } = await legacyOrg();
      expect(await getWorkspace(svc.ctx, orgId, 'ws:1')).to.equal(undefined);

      const setup = await runScript('setup', ['--json']);
      expect(setup.code, setup.stderr).to.equal(0);
      expect((JSON.parse(setup.stdout) as Change[]).find((c) => c.name === orgId)).to.deep.equal({
        kind: 'record ids',
        name: orgId,
        action: 'updated',
        detail: '6 record(s) moved to ids no other organization can share',
      });

      expect(await getWorkspace(svc.ctx, orgId, 'ws:1')).to.include({ orgId, name: 'Old workspace' });
      expect(await getMember(svc.ctx, orgId, 'bob')).to.include({ orgId, role: 'owner' });
      const carol = await getMember(svc.ctx, neighbour, 'y:carol');
      expect(carol).to.include({ orgId: neighbour, email: 'carol@example.com' });
      for (const id of ids) {
        const old = await svc.store.get(
          { index: INTERNAL.ledger, id: legacyId(orgId, id) },
          { ignore: [404] },
        );
        expect(old.body.found, `old ledger id of ${id}`).to.equal(false);
      }
      const report = await verifyClean(orgId);
      expect(report.seals.count).to.equal(1);
      expect(report.events.sealedChecked).to.be.at.least(ids.length);

      const key = (await createApiKey(svc.ctx, orgId, { type: 'personal', userId: 'bob' })).key;
      expect((await readEvent(key, 'e:1')).body).to.include({ id: 'e:1' });
      const proof = await get(svc.url, '/api/v1/audit-logs/e:1/proof', key);
      expect(proof.status, proof.text).to.equal(200);

      // Idempotency holds across the move: an event sent again is still a duplicate.
      const again = await ingestEvents(svc.ctx, { boundOrgId: orgId }, [
        { id: 'e:1', action: 'file.deleted', resourceType: 'file' },
      ]);
      expect(again[0]!.status).to.equal('duplicate');
      // And the next start has nothing left to do for it.
      expect((await migrateOrgRecordIds(svc.store)).find((c) => c.name === orgId)).to.equal(undefined);
    });

    it('verifies clean when the events were not sealed before the move (sealed after it)', async () => {
      const { orgId, ids } = await legacyOrg({ sealed: false });
      await migrateOrgRecordIds(svc.store);
      await sealAll(svc.ctx, orgId);
      const report = await verifyClean(orgId);
      expect(report.events.sealedChecked).to.be.at.least(ids.length);
      expect(report.events.pending).to.equal(0);
    });

    it("refuses, never calls duplicate, a neighbour's event whose id an old event holds on that day", async () => {
      const { orgId, at, neighbour } = await legacyOrg();
      await migrateOrgRecordIds(svc.store);
      const event = (createdAt: string) => ({
        id: 'y:e3',
        action: 'file.deleted',
        resourceType: 'file',
        createdAt,
      });
      const [sameDay] = await ingestEvents(svc.ctx, { boundOrgId: neighbour }, [event(at(5))]);
      expect(sameDay).to.include({ status: 'rejected' });
      expect(sameDay!.error).to.match(/^id: "y:e3" is taken in audit-logs-/);
      expect(await ledgerEntry(svc.store, neighbour, 'y:e3')).to.equal(undefined);
      const [otherDay] = await ingestEvents(svc.ctx, { boundOrgId: neighbour }, [
        event(new Date(Date.now() - 60_000).toISOString()),
      ]);
      expect(otherDay).to.include({ status: 'created' });
      await verifyClean(orgId);
      await verifyClean(neighbour);
    });
  });
});
