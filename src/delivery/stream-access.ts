/**
 * Who may manage an org's streams: the personal key of a current owner or admin (the same check as reading
 * the whole org, `readScope`), and the operator through the operator API. Workspace keys may not: a stream
 * sends the whole org's log out.
 */
import type { AppContext } from '../context.ts';
import { readScope } from '../directory/access.ts';
import { OPERATOR_ACTOR_NAME } from '../directory/audit.ts';
import { getMember } from '../directory/members.ts';
import { requireOrg } from '../directory/orgs.ts';
import type { Principal } from '../directory/principal.ts';
import { Forbidden } from '../errors.ts';
import type { StreamEnv } from './destinations.ts';
import type { StreamCall } from './stream-admin.ts';

export async function memberStreamCall(
  ctx: AppContext,
  env: StreamEnv,
  principal: Principal,
): Promise<StreamCall> {
  if (principal.kind === 'workspace') {
    throw new Forbidden(
      "Workspace keys cannot manage streams: a stream sends the whole organization's log. Use a personal key " +
        'of an org owner or admin.',
    );
  }
  const { orgId } = await readScope(ctx, principal);
  const userId = (principal as Extract<Principal, { kind: 'personal' }>).userId;
  const member = await getMember(ctx, orgId, userId);
  return {
    ctx,
    env,
    orgId,
    actor: {
      actorId: userId,
      actorName: member?.name ?? userId,
      ...(member?.email ? { actorEmail: member.email } : {}),
    },
  };
}

export async function operatorStreamCall(
  ctx: AppContext,
  env: StreamEnv,
  orgId: string,
): Promise<StreamCall> {
  await requireOrg(ctx, orgId);
  return { ctx, env, orgId, actor: { actorName: OPERATOR_ACTOR_NAME } };
}
