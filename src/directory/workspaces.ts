/** Workspaces of an org (index `audit-internal-workspaces`, `_id` = orgRecordId(orgId, workspaceId)): a name. */
import type { AppContext } from '../context.ts';
import { workspaceDocs } from '../store/directory.ts';
import { recordDirectoryEvents, type DirectoryEvent } from './audit.ts';
import { concurrentChange } from './conflict.ts';
import { changedFields } from './diff.ts';
import { requireOrg } from './orgs.ts';
import type { Workspace, WorkspaceBody } from './schemas.ts';

export async function getWorkspace(
  ctx: AppContext,
  orgId: string,
  workspaceId: string,
): Promise<Workspace | undefined> {
  return (await workspaceDocs.get(ctx.store, orgId, workspaceId))?.doc;
}

export async function listWorkspaces(ctx: AppContext, orgId: string): Promise<Workspace[]> {
  return workspaceDocs.list(ctx.store, orgId);
}

export async function workspaceExists(ctx: AppContext, orgId: string, workspaceId: string): Promise<boolean> {
  return (await getWorkspace(ctx, orgId, workspaceId)) !== undefined;
}

/** Creates the workspace or renames it. Records workspace.created / workspace.updated. */
export async function putWorkspace(
  ctx: AppContext,
  orgId: string,
  workspaceId: string,
  input: WorkspaceBody,
): Promise<{ workspace: Workspace; created: boolean }> {
  await requireOrg(ctx, orgId);
  const prev = await workspaceDocs.get(ctx.store, orgId, workspaceId);
  const now = new Date().toISOString();
  const base = { resourceId: workspaceId, resourceName: input.name, workspaceId };
  let next: Workspace;
  let event: DirectoryEvent;
  if (!prev) {
    next = { orgId, workspaceId, name: input.name, createdAt: now, updatedAt: now };
    event = { action: 'workspace.created', ...base, metadata: { ...input } };
  } else {
    const changes = changedFields(prev.doc, input);
    if (!changes) return { workspace: prev.doc, created: false };
    next = { ...prev.doc, ...input, updatedAt: now };
    event = { action: 'workspace.updated', ...base, metadata: changes };
  }
  const ref = workspaceDocs.ref(orgId, workspaceId);
  await recordDirectoryEvents(ctx, orgId, { ...ref, prev, change: input }, [event]);
  if (!(await workspaceDocs.write(ctx.store, next, prev))) {
    throw concurrentChange(`Workspace "${workspaceId}"`);
  }
  return { workspace: next, created: !prev };
}
