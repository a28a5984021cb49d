/**
 * Members of an org (index `audit-internal-members`, `_id` = orgRecordId(orgId, userId)). A member who departs is kept and
 * marked with `leftAt` — their events stay attributable and `actorId` filters still accept them; putting them
 * again (re-joining) clears `leftAt` and starts a new membership period (`joinedAt`).
 */
import type { AppContext } from '../context.ts';
import { InvalidInput, NotFound } from '../errors.ts';
import { memberDocs, type Versioned } from '../store/directory.ts';
import { recordDirectoryChanges, recordDirectoryEvents, type DirectoryEvent } from './audit.ts';
import { concurrentChange } from './conflict.ts';
import { changedFields } from './diff.ts';
import { rebuildMembership, syncMembership } from './membership.ts';
import { requireOrg } from './orgs.ts';
import type { Member, MemberBody, MemberListEntry } from './schemas.ts';

export async function getMember(ctx: AppContext, orgId: string, userId: string): Promise<Member | undefined> {
  return (await memberDocs.get(ctx.store, orgId, userId))?.doc;
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
  return (await memberDocs.list(ctx.store, orgId)).map((v) => v.doc);
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
  const prev = await memberDocs.get(ctx.store, orgId, userId);
  const change = putChange(orgId, userId, input, prev, new Date().toISOString());
  if (!change) {
    await syncMembership(ctx, orgId, userId); // repairs the lookup if an earlier call stopped half-way
    return { member: prev!.doc, created: false };
  }
  const { next, events } = change;
  await recordDirectoryEvents(ctx, orgId, { ...memberDocs.ref(orgId, userId), prev, change: input }, events);
  if (!(await memberDocs.write(ctx.store, next, prev))) throw concurrentChange(`Member "${userId}"`);
  await syncMembership(ctx, orgId, userId);
  return { member: next, created: !prev };
}

/** What putting `input` changes: the new member document and its events, or undefined when nothing changes. */
function putChange(
  orgId: string,
  userId: string,
  input: MemberBody,
  prev: Versioned<Member> | undefined,
  now: string,
): { next: Member; events: DirectoryEvent[] } | undefined {
  const base = { resourceId: userId, resourceName: input.name };
  if (!prev || prev.doc.leftAt) {
    const rejoin = prev ? { rejoined: true, previouslyLeftAt: prev.doc.leftAt } : {};
    return {
      next: { orgId, userId, ...input, joinedAt: now, updatedAt: now },
      events: [{ action: 'org_member.added', ...base, metadata: { ...input, ...rejoin } }],
    };
  }
  const { role, ...details } = changedFields(prev.doc, input) ?? {};
  if (!role && Object.keys(details).length === 0) return undefined;
  const events: DirectoryEvent[] = [];
  if (role) events.push({ action: 'org_member.role_changed', ...base, metadata: { ...role } });
  if (Object.keys(details).length > 0)
    events.push({ action: 'org_member.updated', ...base, metadata: details });
  return { next: { ...prev.doc, ...input, updatedAt: now }, events };
}

/** What a departure changes (for a current member). */
function removeChange(prev: Versioned<Member>, now: string): { next: Member; events: DirectoryEvent[] } {
  return {
    next: { ...prev.doc, leftAt: now, updatedAt: now },
    events: [
      {
        action: 'org_member.removed',
        resourceId: prev.doc.userId,
        resourceName: prev.doc.name,
        metadata: { role: prev.doc.role, email: prev.doc.email },
      },
    ],
  };
}

/** The member departs: kept, marked with leftAt. Records org_member.removed. Departing twice changes nothing. */
export async function removeMember(ctx: AppContext, orgId: string, userId: string): Promise<Member> {
  await requireOrg(ctx, orgId);
  const prev = await memberDocs.get(ctx.store, orgId, userId);
  if (!prev) throw new NotFound(`Member "${userId}" of organization "${orgId}"`);
  if (prev.doc.leftAt) {
    await syncMembership(ctx, orgId, userId);
    return prev.doc;
  }
  const { next, events } = removeChange(prev, new Date().toISOString());
  const ref = memberDocs.ref(orgId, userId);
  await recordDirectoryEvents(ctx, orgId, { ...ref, prev, change: 'removed' }, events);
  if (!(await memberDocs.write(ctx.store, next, prev))) throw concurrentChange(`Member "${userId}"`);
  await syncMembership(ctx, orgId, userId);
  return next;
}

export interface MemberSyncReport {
  added: string[];
  updated: string[];
  removed: string[];
  unchanged: number;
}

/**
 * The org's full member list, SCIM-like: who is listed is put (added, re-added, or changed as by `putMember`),
 * who is a current member but not listed departs (as by `removeMember`); each change records the same audit
 * event as the single-member call, with the same derived id, so repeating a sync that failed half-way records
 * nothing twice. Events are written first (in large ingest batches), then the member documents in bulk, each
 * conditional on the version listed; then the membership lookup is rebuilt once.
 */
export async function syncMembers(
  ctx: AppContext,
  orgId: string,
  list: MemberListEntry[],
): Promise<MemberSyncReport> {
  await requireOrg(ctx, orgId);
  const seen = new Set<string>();
  for (const m of list) {
    if (seen.has(m.userId))
      throw new InvalidInput(
        `userId "${m.userId}" is listed more than once; list each member once.`,
        'members',
        'body',
      );
    seen.add(m.userId);
  }
  const existing = new Map((await memberDocs.list(ctx.store, orgId)).map((v) => [v.doc.userId, v]));
  const now = new Date().toISOString();
  const report: MemberSyncReport = { added: [], updated: [], removed: [], unchanged: 0 };
  const writes: {
    prev: Versioned<Member> | undefined;
    next: Member;
    change: unknown;
    events: DirectoryEvent[];
  }[] = [];
  for (const { userId, ...input } of list) {
    const prev = existing.get(userId);
    const change = putChange(orgId, userId, input, prev, now);
    if (!change) report.unchanged++;
    else {
      (!prev || prev.doc.leftAt ? report.added : report.updated).push(userId);
      writes.push({ prev, change: input, ...change });
    }
  }
  for (const [userId, prev] of existing) {
    if (seen.has(userId) || prev.doc.leftAt) continue;
    report.removed.push(userId);
    writes.push({ prev, change: 'removed', ...removeChange(prev, now) });
  }
  const basis = (w: (typeof writes)[number]) => ({
    ...memberDocs.ref(orgId, w.next.userId),
    prev: w.prev,
    change: w.change,
  });
  await recordDirectoryChanges(
    ctx,
    orgId,
    writes.map((w) => ({ basis: basis(w), events: w.events })),
  );
  const conflicts = await memberDocs.writeAll(ctx.store, writes);
  await rebuildMembership(ctx, orgId);
  // Members changed by another request meanwhile kept that change; the caller repeats the sync to apply its list.
  if (conflicts > 0) throw concurrentChange(`${conflicts} of the listed members`);
  return report;
}
