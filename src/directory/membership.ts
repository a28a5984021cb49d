/**
 * The per-org membership lookup document (index `audit-internal-membership`, `_id` = orgId):
 * `{ orgId, current: [userId…], departed: [userId…] }`, with overflow documents for very many departed members
 * (DEPARTED_DOCS in src/store/directory.ts). The read path hides departed members' events with OpenSearch terms lookups on them —
 * `{ terms: { actorId: { index, id: orgId, path: 'departed' } } }` — so no id list is ever built in Node.
 *
 * It is derived from the member documents, one user at a time, under optimistic concurrency: read the lookup
 * document's version FIRST, then the member (a realtime GET), then write conditionally. Whoever writes last
 * has therefore read the member's latest state, so concurrent changes of different members never lose one
 * another and concurrent changes of one member settle on its final state. Syncing is idempotent, so a call
 * that failed half-way is repaired by repeating it.
 */
import type { AppContext } from '../context.ts';
import {
  DEPARTED_DOCS,
  DEPARTED_PER_DOC,
  memberDocs,
  membershipDocs,
  type Versioned,
} from '../store/directory.ts';
import type { Membership } from './schemas.ts';
import { Conflict, InvariantViolation } from '../errors.ts';

const MAX_ATTEMPTS = 50;

/** One terms lookup per departed document of the org (see DEPARTED_DOCS), for the read path's queries. */
export const departedLookups = (orgId: string) =>
  Array.from({ length: DEPARTED_DOCS }, (_, i) => membershipDocs.lookup(orgId, 'departed', i));

/** Creates the org's (empty) lookup document if it has none, so the read path always finds one. */
export async function ensureMembership(ctx: AppContext, orgId: string): Promise<void> {
  const empty: Membership = { orgId, current: [], departed: [] };
  await membershipDocs.write(ctx.store, 0, empty, undefined); // false = it exists: fine
}

type Lookups = (Versioned<Membership> | undefined)[];

const readLookups = (ctx: AppContext, orgId: string): Promise<Lookups> =>
  membershipDocs.getAll(ctx.store, orgId);

/**
 * Writes the lookup documents that changed, overflow documents first and the main one last, each conditional on
 * the version read; false when one was changed meanwhile (the caller reads again and redoes its change).
 */
async function writeLookups(ctx: AppContext, orgId: string, prev: Lookups, next: Membership[]) {
  for (let i = DEPARTED_DOCS - 1; i >= 0; i--) {
    const before = prev[i]?.doc ?? { orgId, current: [], departed: [] };
    if (JSON.stringify(before) === JSON.stringify(next[i]) && (prev[i] || i > 0)) continue;
    if (!(await membershipDocs.write(ctx.store, i, next[i]!, prev[i]))) return false;
  }
  return true;
}

const backoff = (attempt: number) =>
  new Promise((r) => setTimeout(r, Math.random() * 10 * Math.min(attempt, 10)));

/** Other changes of the org's members kept winning: the caller's request is answered 409, safe to send again. */
const contended = (orgId: string) =>
  new Conflict(
    `The members of org "${orgId}" are being changed by other requests (${MAX_ATTEMPTS} attempts); send the request again.`,
  );

/** Brings the lookup documents in line with the member document of `userId`. */
export async function syncMembership(ctx: AppContext, orgId: string, userId: string): Promise<void> {
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const prev = await readLookups(ctx, orgId);
    const member = (await memberDocs.get(ctx.store, orgId, userId))?.doc;
    const next = prev.map((p) => ({
      orgId,
      current: [...(p?.doc.current ?? [])],
      departed: [...(p?.doc.departed ?? [])],
    }));
    const wantCurrent = Boolean(member && !member.leftAt);
    const wantDeparted = Boolean(member?.leftAt);
    const main = next[0]!;
    const isCurrent = main.current.includes(userId);
    const holder = next.findIndex((d) => d.departed.includes(userId));
    if (isCurrent === wantCurrent && holder >= 0 === wantDeparted) return;
    if (isCurrent && !wantCurrent) main.current = main.current.filter((u) => u !== userId);
    if (!isCurrent && wantCurrent) main.current = [...main.current, userId].sort();
    if (holder >= 0 && !wantDeparted)
      next[holder]!.departed = next[holder]!.departed.filter((u) => u !== userId);
    if (holder < 0 && wantDeparted) {
      const room = next.find((d) => d.departed.length < DEPARTED_PER_DOC);
      if (!room)
        throw new InvariantViolation(
          `org "${orgId}" has more departed members than the lookup documents hold`,
        );
      room.departed = [...room.departed, userId].sort();
    }
    if (await writeLookups(ctx, orgId, prev, next)) return;
    // Another change of this org's members won the race; back off a little (jittered) and redo it on top.
    await backoff(attempt);
  }
  throw contended(orgId);
}

/**
 * Brings the lookup documents in line with every member document of the org at once (after a member sync).
 * The lookups' versions are read before the members are listed, as in `syncMembership`: a concurrent
 * single-member change either shows in the listing or makes this write fail and be redone.
 */
export async function rebuildMembership(ctx: AppContext, orgId: string): Promise<void> {
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const prev = await readLookups(ctx, orgId);
    const members = (await memberDocs.list(ctx.store, orgId)).map((v) => v.doc);
    const departed = members.filter((m) => m.leftAt).map((m) => m.userId);
    if (departed.length > DEPARTED_DOCS * DEPARTED_PER_DOC)
      throw new InvariantViolation(`org "${orgId}" has more departed members than the lookup documents hold`);
    const next = Array.from({ length: DEPARTED_DOCS }, (_, i) => ({
      orgId,
      current: i === 0 ? members.filter((m) => !m.leftAt).map((m) => m.userId) : [],
      departed: departed.slice(i * DEPARTED_PER_DOC, (i + 1) * DEPARTED_PER_DOC),
    }));
    if (await writeLookups(ctx, orgId, prev, next)) return;
    await backoff(attempt);
  }
  throw contended(orgId);
}
