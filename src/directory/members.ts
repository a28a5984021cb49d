/**
 * Members of an org (index `audit-internal-members`, `_id` = `orgId:userId`). A member who departs is kept and
 * marked with `leftAt` — their events stay attributable and `actorId` filters still accept them; putting them
 * again (re-joining) clears `leftAt` and starts a new membership period (`joinedAt`).
 */
import type { AppContext } from '../context.ts';
import { errors } from '../http/errors.ts';
import { INTERNAL } from '../store/names.ts';
import { recordDirectoryEvents, type DirectoryEvent } from './audit.ts';
import { changedFields } from './diff.ts';
import { listOfOrg } from './list.ts';
import { syncMembership } from './membership.ts';
import { requireOrg } from './orgs.ts';
import type { Member, MemberBody } from './schemas.ts';
import { concurrentChange, getDoc, getVersioned, writeIfUnchanged } from './versioned.ts';

const docId = (orgId: string, userId: string) => `${orgId}:${userId}`;

export async function getMember(ctx: AppContext, orgId: string, userId: string): Promise<Member | undefined> {
  return getDoc<Member>(ctx, INTERNAL.members, docId(orgId, userId));
}

/** The member, when they currently belong to the org (not departed). */
export async function getCurrentMember(
  ctx: AppContext,
  orgId: string,
  userId: string,
): Promise<Member | undefined> {
  const m = await getMember(ctx, orgId, userId);
  return m && !m.leftAt ? m : undefined;
}

/** Whether `userId` is or ever was a member of the org (departed members stay in the directory). */
export async function isMemberEver(ctx: AppContext, orgId: string, userId: string): Promise<boolean> {
  return (await getMember(ctx, orgId, userId)) !== undefined;
}

/** Every member of the org, current and departed, ordered by userId. */
export async function listMembers(ctx: AppContext, orgId: string): Promise<Member[]> {
  return listOfOrg<Member>(ctx, INTERNAL.members, orgId, 'userId');
}

/**
 * Adds the member, re-adds a departed one, or changes their email, name or role. Records org_member.added,
 * org_member.role_changed (`{ from, to }`) and, for email/name changes, org_member.updated.
 */
export async function putMember(
  ctx: AppContext,
  orgId: string,
  userId: string,
  input: MemberBody,
): Promise<{ member: Member; created: boolean }> {
  await requireOrg(ctx, orgId);
  const id = docId(orgId, userId);
  const prev = await getVersioned<Member>(ctx, INTERNAL.members, id);
  const now = new Date().toISOString();
  const base = { resourceId: userId, resourceName: input.name };
  const events: DirectoryEvent[] = [];
  let next: Member;
  if (!prev || prev.doc.leftAt) {
    next = { orgId, userId, ...input, joinedAt: now, updatedAt: now };
    const rejoin = prev ? { rejoined: true, previouslyLeftAt: prev.doc.leftAt } : {};
    events.push({ action: 'org_member.added', ...base, metadata: { ...input, ...rejoin } });
  } else {
    const { role, ...details } = changedFields(prev.doc, input) ?? {};
    if (!role && Object.keys(details).length === 0) {
      await syncMembership(ctx, orgId, userId); // repairs the lookup if an earlier call stopped half-way
      return { member: prev.doc, created: false };
    }
    next = { ...prev.doc, ...input, updatedAt: now };
    if (role) events.push({ action: 'org_member.role_changed', ...base, metadata: { ...role } });
    if (Object.keys(details).length > 0)
      events.push({ action: 'org_member.updated', ...base, metadata: details });
  }
  await recordDirectoryEvents(ctx, orgId, { index: INTERNAL.members, id, prev, change: input }, events);
  if (!(await writeIfUnchanged(ctx, INTERNAL.members, id, next, prev)))
    throw concurrentChange(`Member "${userId}"`);
  await syncMembership(ctx, orgId, userId);
  return { member: next, created: !prev };
}

/** The member departs: kept, marked with leftAt. Records org_member.removed. Departing twice changes nothing. */
export async function removeMember(ctx: AppContext, orgId: string, userId: string): Promise<Member> {
  await requireOrg(ctx, orgId);
  const id = docId(orgId, userId);
  const prev = await getVersioned<Member>(ctx, INTERNAL.members, id);
  if (!prev) throw errors.notFound(`Member "${userId}" of organization "${orgId}"`);
  if (prev.doc.leftAt) {
    await syncMembership(ctx, orgId, userId);
    return prev.doc;
  }
  const now = new Date().toISOString();
  const next: Member = { ...prev.doc, leftAt: now, updatedAt: now };
  const event: DirectoryEvent = {
    action: 'org_member.removed',
    resourceId: userId,
    resourceName: prev.doc.name,
    metadata: { role: prev.doc.role, email: prev.doc.email },
  };
  await recordDirectoryEvents(ctx, orgId, { index: INTERNAL.members, id, prev, change: 'removed' }, [event]);
  if (!(await writeIfUnchanged(ctx, INTERNAL.members, id, next, prev)))
    throw concurrentChange(`Member "${userId}"`);
  await syncMembership(ctx, orgId, userId);
  return next;
}
