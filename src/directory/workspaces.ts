/** Workspaces of an org (index `audit-internal-workspaces`, `_id` = `orgId:workspaceId`): a name. */
import type { AppContext } from '../context.ts';
import { INTERNAL } from '../store/names.ts';
import { recordDirectoryEvents, type DirectoryEvent } from './audit.ts';
import { changedFields } from './diff.ts';
import { listOfOrg } from './list.ts';
import { requireOrg } from './orgs.ts';
import type { Workspace, WorkspaceBody } from './schemas.ts';
import { concurrentChange, getDoc, getVersioned, writeIfUnchanged } from './versioned.ts';

const docId = (orgId: string, workspaceId: string) => `${orgId}:${workspaceId}`;

export async function getWorkspace(
  ctx: AppContext,
  orgId: string,
  workspaceId: string,
): Promise<Workspace | undefined> {
  return getDoc<Workspace>(ctx, INTERNAL.workspaces, docId(orgId, workspaceId));
}

export async function listWorkspaces(ctx: AppContext, orgId: string): Promise<Workspace[]> {
  return listOfOrg<Workspace>(ctx, INTERNAL.workspaces, orgId, 'workspaceId');
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
  const id = docId(orgId, workspaceId);
  const prev = await getVersioned<Workspace>(ctx, INTERNAL.workspaces, id);
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
  await recordDirectoryEvents(ctx, orgId, { index: INTERNAL.workspaces, id, prev, change: input }, [event]);
  if (!(await writeIfUnchanged(ctx, INTERNAL.workspaces, id, next, prev))) {
    throw concurrentChange(`Workspace "${workspaceId}"`);
  }
  return { workspace: next, created: !prev };
}
