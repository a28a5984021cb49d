/** Organizations (index `audit-internal-orgs`, `_id` = orgId): name and plan. */
import type { AppContext } from '../context.ts';
import { DAY_MS } from '../days.ts';
import { NotFound } from '../errors.ts';
import { orgDocs } from '../store/directory.ts';
import { OPERATOR_ORG_ID, recordDirectoryEvents } from './audit.ts';
import { concurrentChange } from './conflict.ts';
import { changedFields } from './diff.ts';
import { ensureMembership } from './membership.ts';
import type { Org, OrgBody } from './schemas.ts';

export async function getOrg(ctx: AppContext, orgId: string): Promise<Org | undefined> {
  return (await orgDocs.get(ctx.store, orgId))?.doc;
}

/** The org, or a 404 telling the operator how to create it. */
export async function requireOrg(ctx: AppContext, orgId: string): Promise<Org> {
  const org = await getOrg(ctx, orgId);
  if (!org) throw new NotFound(`Organization "${orgId}" (create it with PUT /api/v1/admin/orgs/${orgId})`);
  return org;
}

/**
 * Creates the org or updates its name/plan. Records organization.created / organization.updated.
 *
 * Creation is the one change written BEFORE its event: the ingest path only accepts events of an org that
 * exists. Its event id depends on the org id alone, and a later PUT of the org records it again (ingest
 * answers `duplicate`), so a creation whose event failed (answered 5xx) gets it on the operator's retry. Only
 * while the org is younger than the seal age: later its day is sealed, and the ledger that detects the
 * duplicate need not hold entries that old.
 */
export async function putOrg(
  ctx: AppContext,
  orgId: string,
  input: OrgBody,
): Promise<{ org: Org; created: boolean }> {
  const prev = await orgDocs.get(ctx.store, orgId);
  const now = new Date().toISOString();
  if (!prev) {
    const org: Org = { orgId, name: input.name, plan: input.plan, createdAt: now, updatedAt: now };
    if (!(await orgDocs.write(ctx.store, org, undefined))) {
      throw concurrentChange(`Organization "${orgId}"`);
    }
    await ensureMembership(ctx, orgId);
    await recordCreation(ctx, org);
    return { org, created: true };
  }
  if (Date.now() - Date.parse(prev.doc.createdAt) < ctx.cfg.sealAfterDays * DAY_MS) {
    await ensureMembership(ctx, orgId);
    await recordCreation(ctx, prev.doc);
  }
  const changes = changedFields(prev.doc, input);
  if (!changes) return { org: prev.doc, created: false };
  const next: Org = { ...prev.doc, ...input, updatedAt: now };
  await recordDirectoryEvents(ctx, orgId, { ...orgDocs.ref(orgId), prev, change: input }, [
    { action: 'organization.updated', resourceId: orgId, resourceName: input.name, metadata: changes },
  ]);
  if (!(await orgDocs.write(ctx.store, next, prev))) throw concurrentChange(`Organization "${orgId}"`);
  return { org: next, created: false };
}

async function recordCreation(ctx: AppContext, org: Org): Promise<void> {
  await recordDirectoryEvents(
    ctx,
    org.orgId,
    { ...orgDocs.ref(org.orgId), prev: undefined, change: 'created' },
    [
      {
        action: 'organization.created',
        resourceId: org.orgId,
        resourceName: org.name,
        metadata: { name: org.name, plan: org.plan },
      },
    ],
  );
}

/**
 * The reserved org that records changes belonging to no org (ingest keys not bound to one). Its id starts with
 * `_`, which the operator API refuses for org ids, so it has no members and no key can read it through the API.
 */
export async function ensureOperatorOrg(ctx: AppContext): Promise<void> {
  const now = new Date().toISOString();
  const org: Org = {
    orgId: OPERATOR_ORG_ID,
    name: 'Operator (changes outside any org)',
    plan: 'free',
    createdAt: now,
    updatedAt: now,
  };
  await orgDocs.write(ctx.store, org, undefined); // false = it exists: fine
}
