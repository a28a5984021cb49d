/**
 * The per-org membership lookup document (index `audit-internal-membership`, `_id` = orgId):
 * `{ orgId, current: [userId…], departed: [userId…] }`. The read path hides departed members' events with an
 * OpenSearch terms lookup on it — `{ terms: { actorId: { index, id: orgId, path: 'departed' } } }` — so no id
 * list is ever built in Node.
 *
 * It is derived from the member documents, one user at a time, under optimistic concurrency: read the lookup
 * document's version FIRST, then the member (a realtime GET), then write conditionally. Whoever writes last
 * has therefore read the member's latest state, so concurrent changes of different members never lose one
 * another and concurrent changes of one member settle on its final state. Syncing is idempotent, so a call
 * that failed half-way is repaired by repeating it.
 */
import type { AppContext } from '../context.ts';
import { INTERNAL } from '../store/names.ts';
import type { Member, Membership } from './schemas.ts';
import { getDoc, getVersioned, writeIfUnchanged } from './versioned.ts';

const MAX_ATTEMPTS = 50;

export const membershipLookup = (orgId: string, path: 'current' | 'departed') => ({
  index: INTERNAL.membership,
  id: orgId,
  path,
});

export async function getMembership(ctx: AppContext, orgId: string): Promise<Membership | undefined> {
  return getDoc<Membership>(ctx, INTERNAL.membership, orgId);
}

/** Creates the org's (empty) lookup document if it has none, so the read path always finds one. */
export async function ensureMembership(ctx: AppContext, orgId: string): Promise<void> {
  const empty: Membership = { orgId, current: [], departed: [] };
  await writeIfUnchanged(ctx, INTERNAL.membership, orgId, empty, undefined); // false = it exists: fine
}

/** Brings the lookup document in line with the member document of `userId`. */
export async function syncMembership(ctx: AppContext, orgId: string, userId: string): Promise<void> {
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const prev = await getVersioned<Membership>(ctx, INTERNAL.membership, orgId);
    const member = await getDoc<Member>(ctx, INTERNAL.members, `${orgId}:${userId}`);
    const current = new Set(prev?.doc.current ?? []);
    const departed = new Set(prev?.doc.departed ?? []);
    const wantCurrent = Boolean(member && !member.leftAt);
    const wantDeparted = Boolean(member?.leftAt);
    if (current.has(userId) === wantCurrent && departed.has(userId) === wantDeparted) return;
    current.delete(userId);
    departed.delete(userId);
    if (wantCurrent) current.add(userId);
    if (wantDeparted) departed.add(userId);
    const next: Membership = { orgId, current: [...current].sort(), departed: [...departed].sort() };
    if (await writeIfUnchanged(ctx, INTERNAL.membership, orgId, next, prev)) return;
    // Another change of this org's members won the race; back off a little (jittered) and redo it on top.
    await new Promise((r) => setTimeout(r, Math.random() * 10 * Math.min(attempt, 10)));
  }
  throw new Error(
    `the membership lookup document of org "${orgId}" stayed contended for ${MAX_ATTEMPTS} attempts`,
  );
}
