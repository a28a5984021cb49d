/**
 * Who may read an org's audit log, decided against the directory at every request (so a demotion, a
 * departure or a plan change takes effect at once, without touching keys):
 * - the feature must be on: AUDIT_LOGS_ENABLED (self-hosted) replaces the plan check; else with
 *   BILLING_ENABLED the org's plan must be `enterprise`; else reads are off;
 * - a personal key reads the whole org while its user is CURRENTLY an owner or admin;
 * - a workspace key reads only its workspace, while the member who created it is still an owner or admin;
 * - a key belongs to the membership it was created in: once its user (or creator) departed, it never reads
 *   again, even when they rejoin (a new key is created then);
 * - an ingest key never reads.
 * Each refusal says how to get access.
 */
import type { AppContext } from '../context.ts';
import { Forbidden } from '../errors.ts';
import { getMember } from './members.ts';
import { getOrg } from './orgs.ts';
import type { Principal } from './principal.ts';
import { READER_ROLES, type Member } from './schemas.ts';

export { isMemberEver } from './members.ts';
export { workspaceExists } from './workspaces.ts';

export interface ReadScope {
  orgId: string;
  /** Set when the reader is narrowed to (or asked for) one workspace. */
  workspaceId?: string;
}

export async function readScope(
  ctx: AppContext,
  principal: Principal,
  requestedWorkspaceId?: string,
): Promise<ReadScope> {
  if (principal.kind === 'ingest' || principal.kind === 'operator') {
    throw new Forbidden(
      principal.kind === 'ingest'
        ? 'Ingest keys can only write events. To read, use a personal key of an org owner or admin, or a ' +
            'workspace key (an operator creates them with POST /api/v1/admin/orgs/:orgId/api-keys).'
        : 'The operator token manages the directory; reading needs a personal or workspace API key.',
    );
  }
  await checkFeatureEnabled(ctx, principal.orgId);

  if (principal.kind === 'personal') {
    const member = await getMember(ctx, principal.orgId, principal.userId);
    refuseUnlessReader(
      member,
      `The user of this key ("${principal.userId}")`,
      'Ask an org owner to make you an admin',
      principal.keyCreatedAt,
    );
    return { orgId: principal.orgId, ...(requestedWorkspaceId ? { workspaceId: requestedWorkspaceId } : {}) };
  }

  if (requestedWorkspaceId !== undefined && requestedWorkspaceId !== principal.workspaceId) {
    throw new Forbidden(
      `This key is scoped to workspace "${principal.workspaceId}" and cannot read workspace ` +
        `"${requestedWorkspaceId}". Leave workspaceId out (or set it to "${principal.workspaceId}"), or use a ` +
        'personal key of an org owner or admin to read other workspaces.',
      'workspaceId',
    );
  }
  const creator = await getMember(ctx, principal.orgId, principal.createdBy);
  refuseUnlessReader(
    creator,
    `The member who created this workspace key ("${principal.createdBy}")`,
    'Ask a current owner or admin to create a new workspace key',
    principal.keyCreatedAt,
  );
  return { orgId: principal.orgId, workspaceId: principal.workspaceId };
}

function refuseUnlessReader(
  member: Member | undefined,
  who: string,
  remedy: string,
  keyCreatedAt: string,
): void {
  if (!member || member.leftAt) {
    throw new Forbidden(
      `${who} is no longer a member of this organization, so the key cannot read its audit log. Use a key ` +
        'of a current owner or admin.',
    );
  }
  // The membership began after the key was made: the key is of an earlier membership, which ended.
  if (member.joinedAt > keyCreatedAt) {
    throw new Forbidden(
      `${who} left this organization after the key was created and joined again on ${member.joinedAt}; ` +
        'keys of an earlier membership stay void. An operator creates a new key.',
    );
  }
  if (!READER_ROLES.includes(member.role)) {
    throw new Forbidden(
      `${who} has the role "${member.role}"; reading audit logs needs owner or admin. ${remedy}.`,
    );
  }
}

async function checkFeatureEnabled(ctx: AppContext, orgId: string): Promise<void> {
  const { cfg } = ctx;
  if (cfg.auditLogsEnabled) return;
  if (!cfg.billingEnabled) {
    throw new Forbidden(
      'Audit logs are not enabled on this server. A self-hosted operator sets AUDIT_LOGS_ENABLED=true; a ' +
        'hosted deployment sets BILLING_ENABLED=true and puts the organization on the enterprise plan.',
      undefined,
      'feature',
    );
  }
  const org = await getOrg(ctx, orgId);
  if (org?.plan !== 'enterprise') {
    throw new Forbidden(
      `Audit logs are part of the enterprise plan; organization "${orgId}" is on ` +
        `${org ? `the "${org.plan}" plan` : 'no plan'}. Upgrade it to enterprise to read its audit logs.`,
      undefined,
      'feature',
    );
  }
}
