/**
 * The filter rules of the product document that need the directory:
 * - `actorId` must be a current or former member of the org, `workspaceId` a workspace of the org (else 400);
 * - naming a departed member in `actorId` returns their events: the caller asked for that person, so the
 *   departed-member exclusion does not apply. `includeDeparted=false` written out together with a departed
 *   `actorId` contradicts itself and is a 400 naming `includeDeparted` — never a silent empty page.
 */
import type { AppContext } from '../context.ts';
import { workspaceExists, type ReadScope } from '../directory/access.ts';
import { getMember } from '../directory/members.ts';
import { InvalidInput } from '../errors.ts';
import type { ListFilters, ListRequest } from './query-params.ts';

/**
 * Checks the filters that name directory objects, and resolves whether departed members' events are shown.
 * Every reader of filtered entries (list, histogram, export) goes through it, so the rules are the same.
 */
export async function resolveFilters(
  ctx: AppContext,
  scope: ReadScope,
  request: Pick<ListRequest, 'filters' | 'includeDepartedGiven'>,
): Promise<ListFilters> {
  const { filters } = request;
  if (filters.workspaceId !== undefined && !(await workspaceExists(ctx, scope.orgId, filters.workspaceId))) {
    throw new InvalidInput(
      `workspaceId "${filters.workspaceId}" is not a workspace of this organization.`,
      'workspaceId',
    );
  }
  if (filters.actorId === undefined) return filters;
  // One directory read answers both questions: ever a member (else 400), and departed now.
  const actor = await getMember(ctx, scope.orgId, filters.actorId);
  if (!actor) {
    throw new InvalidInput(
      `actorId "${filters.actorId}" is not a current or former member of this organization.`,
      'actorId',
    );
  }
  if (request.includeDepartedGiven && !filters.includeDeparted && actor.leftAt) {
    throw new InvalidInput(
      `actorId "${filters.actorId}" has left the organization, so includeDeparted=false would hide all of their ` +
        'events; drop includeDeparted or set includeDeparted=true.',
      'includeDeparted',
    );
  }
  // An explicit actor is shown whether or not they have left (for a current member the exclusion is moot).
  return { ...filters, includeDeparted: true };
}
