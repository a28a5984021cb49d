/**
 * Every directory change records its own audit event through the ingest path (the same validation,
 * description and durable write as a producer's event), with the operator as actor.
 *
 * Order: the event is written BEFORE the change. A change whose event cannot be written therefore never
 * happens (the error propagates: 503 when storage is down, 500 otherwise). The event id is derived from the
 * version the change starts from and the change itself, so an operator retrying a failed call records the
 * same event again — ingest answers `duplicate` — instead of a second one.
 */
import crypto from 'node:crypto';
import canonicalize from 'canonicalize';
import type { AppContext } from '../context.ts';
import { ingestEvents } from '../ingest/ingest.ts';
import type { Versioned } from '../store/directory.ts';

/** Org under which changes that belong to no org (an ingest key not bound to one) are recorded. */
export const OPERATOR_ORG_ID = '_operator';
export const OPERATOR_ACTOR_NAME = 'Operator';

export interface DirectoryEvent {
  /** A catalogue action, e.g. `org_member.role_changed`; the resource type is the part before the dot. */
  action: string;
  resourceId: string;
  resourceName?: string;
  workspaceId?: string;
  metadata: Record<string, unknown>;
}

/** What the change is: the document it starts from (its version) and what it writes. */
export interface ChangeBasis {
  index: string;
  id: string;
  prev: Versioned<unknown> | undefined;
  /** The change, without timestamps, so a retry yields the same id. */
  change: unknown;
}

export class DirectoryAuditError extends Error {}

/** Who made the change: the operator unless a member (or the service itself) is named. */
export interface ChangeActor {
  actorId?: string;
  actorName: string;
  actorEmail?: string;
}

const OPERATOR_ACTOR: ChangeActor = { actorName: OPERATOR_ACTOR_NAME };

export async function recordDirectoryEvents(
  ctx: AppContext,
  orgId: string | undefined,
  basis: ChangeBasis,
  events: DirectoryEvent[],
  actor: ChangeActor = OPERATOR_ACTOR,
): Promise<void> {
  await recordDirectoryChanges(ctx, orgId, [{ basis, events }], actor);
}

/** Events per ingest call when many changes are recorded at once (a member sync). */
const BATCH = 1000;

/** The events of many changes of one org, written in large ingest batches; each id as for a single change. */
export async function recordDirectoryChanges(
  ctx: AppContext,
  orgId: string | undefined,
  changes: { basis: ChangeBasis; events: DirectoryEvent[] }[],
  actor: ChangeActor = OPERATOR_ACTOR,
): Promise<void> {
  const inputs = changes.flatMap(({ basis, events }) => {
    const version = basis.prev ? `${basis.prev.primaryTerm}:${basis.prev.seqNo}` : 'new';
    const seed = `${basis.index}|${basis.id}|${version}|${canonicalize(basis.change)}`;
    return events.map((e) => ({
      id: `dir_${crypto.createHash('sha256').update(`${seed}|${e.action}`).digest('hex').slice(0, 40)}`,
      action: e.action,
      resourceType: e.action.slice(0, e.action.indexOf('.')),
      resourceId: e.resourceId,
      ...(e.resourceName ? { resourceName: e.resourceName } : {}),
      ...(e.workspaceId ? { workspaceId: e.workspaceId } : {}),
      ...actor,
      metadata: e.metadata,
      ...(ctx.directoryEventTime ? { createdAt: ctx.directoryEventTime.toISOString() } : {}),
    }));
  });
  for (let i = 0; i < inputs.length; i += BATCH) {
    const chunk = inputs.slice(i, i + BATCH);
    const results = await ingestEvents(ctx, { boundOrgId: orgId ?? OPERATOR_ORG_ID }, chunk);
    const rejected = results.filter((r) => r.status === 'rejected');
    if (rejected.length > 0 || results.length !== chunk.length) {
      // A bug, not a user error: the directory builds these events itself. Nothing was changed.
      throw new DirectoryAuditError(
        `the audit event of a directory change was rejected by the ingest path: ${rejected.map((r) => r.error).join('; ')}`,
      );
    }
  }
}
