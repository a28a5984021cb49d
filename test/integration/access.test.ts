/** Who may read: `readScope` against the real directory in OpenSearch, for every kind of key and mode. */
import { expect } from 'chai';
import type { AppContext } from '../../src/context.ts';
import { isMemberEver, readScope, workspaceExists } from '../../src/directory/access.ts';
import { createApiKey } from '../../src/directory/api-keys.ts';
import { putMember, removeMember } from '../../src/directory/members.ts';
import { putOrg } from '../../src/directory/orgs.ts';
import type { Plan, Role } from '../../src/directory/schemas.ts';
import { putWorkspace } from '../../src/directory/workspaces.ts';
import { toApiError, type ApiError } from '../../src/http/api-errors.ts';
import { resolveApiKey, type Principal } from '../../src/http/auth.ts';
import { applyTemplates } from '../../src/store/bootstrap.ts';
import { testConfig, testStore, uniqueId } from '../helpers.ts';

describe('directory: who may read (readScope)', function () {
  this.timeout(120_000);
  const store = testStore();
  const selfHosted: AppContext = { cfg: testConfig({ AUDIT_LOGS_ENABLED: 'true' }), store };
  // On a fresh engine this file may run first: the indices must exist with their mappings before any write.
  before(() => applyTemplates(store, selfHosted.cfg));
  after(() => store.close());

  async function org(plan: Plan = 'enterprise') {
    const orgId = uniqueId('org');
    await putOrg(selfHosted, orgId, { name: 'Acme', plan });
    await putWorkspace(selfHosted, orgId, 'ws1', { name: 'One' });
    await putWorkspace(selfHosted, orgId, 'ws2', { name: 'Two' });
    return orgId;
  }
  const member = (orgId: string, userId: string, role: Role) =>
    putMember(selfHosted, orgId, userId, { email: `${userId}@example.com`, name: userId, role });
  async function principal(orgId: string, req: Parameters<typeof createApiKey>[2]): Promise<Principal> {
    const { key } = await createApiKey(selfHosted, orgId, req);
    return (await resolveApiKey(selfHosted, key))!;
  }

  /** The answer the API gives for the refusal readScope throws (fails the test when it does not throw). */
  async function refusal(p: Promise<unknown>): Promise<ApiError> {
    try {
      await p;
    } catch (err) {
      const answer = toApiError(err, 'read');
      if (answer) return answer;
      throw err;
    }
    throw new Error('expected a refusal, but access was granted');
  }

  describe('personal keys', () => {
    it('read the whole org while the user is currently an owner or admin', async () => {
      const orgId = await org();
      await member(orgId, 'own', 'owner');
      await member(orgId, 'adm', 'admin');
      for (const userId of ['own', 'adm']) {
        const p = await principal(orgId, { type: 'personal', userId });
        expect(await readScope(selfHosted, p)).to.deep.equal({ orgId });
        expect(await readScope(selfHosted, p, 'ws2')).to.deep.equal({ orgId, workspaceId: 'ws2' });
      }
    });

    it('refuse a plain member, a departed user and a user demoted since the key was made (403, with a remedy)', async () => {
      const orgId = await org();
      await member(orgId, 'plain', 'member');
      await member(orgId, 'leaver', 'admin');
      await member(orgId, 'demoted', 'owner');
      const plain = await principal(orgId, { type: 'personal', userId: 'plain' });
      const leaver = await principal(orgId, { type: 'personal', userId: 'leaver' });
      const demoted = await principal(orgId, { type: 'personal', userId: 'demoted' });
      expect(await readScope(selfHosted, leaver)).to.deep.equal({ orgId });
      expect(await readScope(selfHosted, demoted)).to.deep.equal({ orgId });
      await removeMember(selfHosted, orgId, 'leaver');
      await member(orgId, 'demoted', 'member');

      const e1 = await refusal(readScope(selfHosted, plain));
      expect(e1.status).to.equal(403);
      expect(e1.message).to.include('"member"').and.include('owner or admin');
      const e2 = await refusal(readScope(selfHosted, leaver));
      expect(e2.status).to.equal(403);
      expect(e2.message).to.include('no longer a member');
      const e3 = await refusal(readScope(selfHosted, demoted));
      expect(e3.status).to.equal(403);
      expect(e3.message).to.include('Ask an org owner');

      // A key belongs to its membership: re-joining as admin does not bring it back; a new key reads.
      await member(orgId, 'leaver', 'admin');
      const e4 = await refusal(readScope(selfHosted, leaver));
      expect(e4.status).to.equal(403);
      expect(e4.message).to.include('joined again');
      const fresh = await principal(orgId, { type: 'personal', userId: 'leaver' });
      expect(await readScope(selfHosted, fresh)).to.deep.equal({ orgId });
      // A demotion keeps the membership: promoted again, the same key reads.
      await member(orgId, 'demoted', 'owner');
      expect(await readScope(selfHosted, demoted)).to.deep.equal({ orgId });
    });
  });

  describe('workspace keys', () => {
    it('read only their workspace; asking for another is a 403 naming workspaceId', async () => {
      const orgId = await org();
      await member(orgId, 'adm', 'admin');
      const p = await principal(orgId, { type: 'workspace', workspaceId: 'ws1', createdBy: 'adm' });
      expect(await readScope(selfHosted, p)).to.deep.equal({ orgId, workspaceId: 'ws1' });
      expect(await readScope(selfHosted, p, 'ws1')).to.deep.equal({ orgId, workspaceId: 'ws1' });
      const err = await refusal(readScope(selfHosted, p, 'ws2'));
      expect(err.status).to.equal(403);
      expect(err.param).to.equal('workspaceId');
      expect(err.message).to.include('ws1');
    });

    it('stop reading when their creator is demoted or departs', async () => {
      const orgId = await org();
      await member(orgId, 'a1', 'admin');
      await member(orgId, 'a2', 'owner');
      const byDemoted = await principal(orgId, { type: 'workspace', workspaceId: 'ws1', createdBy: 'a1' });
      const byLeaver = await principal(orgId, { type: 'workspace', workspaceId: 'ws2', createdBy: 'a2' });
      await member(orgId, 'a1', 'member');
      await removeMember(selfHosted, orgId, 'a2');
      const e1 = await refusal(readScope(selfHosted, byDemoted));
      expect(e1.status).to.equal(403);
      expect(e1.message).to.include('created this workspace key').and.include('create a new workspace key');
      const e2 = await refusal(readScope(selfHosted, byLeaver));
      expect(e2.status).to.equal(403);
      expect(e2.message).to.include('no longer a member');
    });
  });

  it('refuses ingest keys (403) with a pointer to the keys that read', async () => {
    const orgId = await org();
    const p = await principal(orgId, { type: 'ingest', orgId });
    const err = await refusal(readScope(selfHosted, p));
    expect(err.status).to.equal(403);
    expect(err.message).to.include('personal key');
  });

  describe('feature gate', () => {
    it('AUDIT_LOGS_ENABLED replaces the plan check; BILLING_ENABLED needs enterprise; else reads are off', async () => {
      const free = await org('free');
      const enterprise = await org('enterprise');
      await member(free, 'own', 'owner');
      await member(enterprise, 'own', 'owner');
      const freeKey = await principal(free, { type: 'personal', userId: 'own' });
      const entKey = await principal(enterprise, { type: 'personal', userId: 'own' });
      const billing: AppContext = { cfg: testConfig({ BILLING_ENABLED: 'true' }), store };
      const both: AppContext = {
        cfg: testConfig({ BILLING_ENABLED: 'true', AUDIT_LOGS_ENABLED: 'true' }),
        store,
      };
      const off: AppContext = { cfg: testConfig({}), store };

      expect(await readScope(selfHosted, freeKey)).to.deep.equal({ orgId: free });
      expect(await readScope(both, freeKey)).to.deep.equal({ orgId: free });
      expect(await readScope(billing, entKey)).to.deep.equal({ orgId: enterprise });

      const notEnterprise = await refusal(readScope(billing, freeKey));
      expect(notEnterprise).to.include({ status: 403, code: 'audit_logs_not_enabled' });
      expect(notEnterprise.message).to.include('"free"').and.include('enterprise');
      const disabled = await refusal(readScope(off, entKey));
      expect(disabled).to.include({ status: 403, code: 'audit_logs_not_enabled' });
      expect(disabled.message).to.include('AUDIT_LOGS_ENABLED=true');

      // A plan change takes effect at the next request.
      await putOrg(selfHosted, free, { name: 'Acme', plan: 'enterprise' });
      expect(await readScope(billing, freeKey)).to.deep.equal({ orgId: free });
    });
  });

  it('isMemberEver and workspaceExists answer for this org only', async () => {
    const orgId = await org();
    const other = await org();
    await member(orgId, 'cur', 'member');
    await member(orgId, 'former', 'admin');
    await removeMember(selfHosted, orgId, 'former');
    await member(other, 'elsewhere', 'owner');
    expect(await isMemberEver(selfHosted, orgId, 'cur')).to.equal(true);
    expect(await isMemberEver(selfHosted, orgId, 'former')).to.equal(true);
    expect(await isMemberEver(selfHosted, orgId, 'elsewhere')).to.equal(false);
    expect(await isMemberEver(selfHosted, orgId, 'nobody')).to.equal(false);
    expect(await workspaceExists(selfHosted, orgId, 'ws1')).to.equal(true);
    expect(await workspaceExists(selfHosted, orgId, 'ws9')).to.equal(false);
    await putWorkspace(selfHosted, other, 'only-there', { name: 'X' });
    expect(await workspaceExists(selfHosted, orgId, 'only-there')).to.equal(false);
  });
});
