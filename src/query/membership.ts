/**
 * Whether a user has left an org, read from the same per-org membership document (`audit-internal-membership`,
 * `_id` = orgId, `departed: [userId…]`) that the search's terms lookup reads, so both always agree.
 */
import type { AppContext } from '../app.ts';
import { statusOf } from '../store/client.ts';
import { INTERNAL } from '../store/names.ts';

export async function isDeparted(ctx: AppContext, orgId: string, userId: string): Promise<boolean> {
  try {
    const res = await ctx.store.get({ index: INTERNAL.membership, id: orgId, _source_includes: 'departed' });
    const departed = (res.body._source as { departed?: string[] | string } | undefined)?.departed ?? [];
    return ([] as string[]).concat(departed).includes(userId);
  } catch (err) {
    if (statusOf(err) === 404) return false;
    throw err;
  }
}
