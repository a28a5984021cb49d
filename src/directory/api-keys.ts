/**
 * API keys (index `audit-internal-api-keys`, `_id` = key id): personal (a member reading as themselves),
 * workspace (reading one workspace, on behalf of the member who created it) and ingest (writing events,
 * optionally bound to one org). The secret is returned once by the create call; only its hash is stored
 * (format and hashing in keys.ts).
 */
import type { AppContext } from '../context.ts';
import { InvalidInput, NotFound } from '../errors.ts';
import { apiKeyDocs } from '../store/directory.ts';
import { recordDirectoryEvents } from './audit.ts';
import { concurrentChange } from './conflict.ts';
import { generateKey, type ApiKeyRecord } from './keys.ts';
import { getCurrentMember } from './members.ts';
import { ensureOperatorOrg, requireOrg } from './orgs.ts';
import type { IngestKeyBody, PersonalKeyBody, WorkspaceKeyBody } from './schemas.ts';
import { workspaceExists } from './workspaces.ts';

/** A key as the operator sees it: everything but the hash. */
export type PublicKeyRecord = Omit<ApiKeyRecord, 'hash'>;

export function publicKey({ hash: _hash, ...rest }: ApiKeyRecord): PublicKeyRecord {
  return rest;
}

export type KeyRequest = PersonalKeyBody | WorkspaceKeyBody | ({ type: 'ingest' } & IngestKeyBody);

export interface CreatedKey {
  id: string;
  /** The secret key, shown this once. */
  key: string;
  record: PublicKeyRecord;
}

/** Checks the request against the directory; returns the record's scope fields. */
async function scopeOf(ctx: AppContext, orgId: string | undefined, req: KeyRequest) {
  if (orgId) await requireOrg(ctx, orgId);
  switch (req.type) {
    case 'personal':
      if (!(await getCurrentMember(ctx, orgId!, req.userId))) {
        throw new InvalidInput(
          `"${req.userId}" is not a current member of organization "${orgId}"; add them with ` +
            `PUT /api/v1/admin/orgs/${orgId}/members/${req.userId} first.`,
          'userId',
        );
      }
      return { kind: 'personal' as const, orgId: orgId!, userId: req.userId };
    case 'workspace':
      if (!(await workspaceExists(ctx, orgId!, req.workspaceId))) {
        throw new InvalidInput(
          `Workspace "${req.workspaceId}" does not exist in organization "${orgId}"; create it with ` +
            `PUT /api/v1/admin/orgs/${orgId}/workspaces/${req.workspaceId} first.`,
          'workspaceId',
        );
      }
      if (!(await getCurrentMember(ctx, orgId!, req.createdBy))) {
        throw new InvalidInput(
          `"${req.createdBy}" is not a current member of organization "${orgId}"; a workspace key is created ` +
            'on behalf of a member (an owner or admin, for it to be able to read).',
          'createdBy',
        );
      }
      return {
        kind: 'workspace' as const,
        orgId: orgId!,
        workspaceId: req.workspaceId,
        createdBy: req.createdBy,
      };
    case 'ingest':
      return { kind: 'ingest' as const, ...(orgId ? { orgId } : {}) };
  }
}

/** Creates a key. For personal and workspace keys `orgId` is required; an ingest key may be bound to one. */
export async function createApiKey(
  ctx: AppContext,
  orgId: string | undefined,
  req: KeyRequest,
): Promise<CreatedKey> {
  const scope = await scopeOf(ctx, orgId ?? (req.type === 'ingest' ? req.orgId : undefined), req);
  const { id, key, hash } = generateKey();
  const record: ApiKeyRecord = { id, ...scope, hash, createdAt: new Date().toISOString() };
  if (!record.orgId) await ensureOperatorOrg(ctx);
  await recordDirectoryEvents(ctx, record.orgId, { ...apiKeyDocs.ref(id), prev: undefined, change: scope }, [
    {
      action: 'api_key.created',
      resourceId: id,
      resourceName: keyName(record),
      ...(record.workspaceId ? { workspaceId: record.workspaceId } : {}),
      metadata: { ...scope },
    },
  ]);
  // A fresh random id: a conflict here would mean a colliding id, which 64 random bits make a non-event.
  if (!(await apiKeyDocs.write(ctx.store, record, undefined))) throw concurrentChange(`API key ${id}`);
  ctx.onKeyCreated?.(id);
  return { id, key, record: publicKey(record) };
}

/** A key's stored record (its hash included, to check a secret against), or undefined when there is none. */
export async function findApiKey(
  ctx: Pick<AppContext, 'store'>,
  id: string,
): Promise<ApiKeyRecord | undefined> {
  return (await apiKeyDocs.get(ctx.store, id))?.doc;
}

/** The org's keys (any kind, revoked ones included), without their hashes. */
export async function listApiKeys(ctx: AppContext, orgId: string): Promise<PublicKeyRecord[]> {
  return (await apiKeyDocs.list(ctx.store, orgId)).map(publicKey);
}

/** Revokes any kind of key; revoking a revoked key changes nothing. */
export async function revokeApiKey(ctx: AppContext, id: string): Promise<PublicKeyRecord> {
  const prev = await apiKeyDocs.get(ctx.store, id);
  if (!prev) throw new NotFound(`API key "${id}"`);
  if (prev.doc.revokedAt) return publicKey(prev.doc);
  if (!prev.doc.orgId) await ensureOperatorOrg(ctx);
  const next: ApiKeyRecord = { ...prev.doc, revokedAt: new Date().toISOString() };
  const ref = apiKeyDocs.ref(id);
  await recordDirectoryEvents(ctx, prev.doc.orgId, { ...ref, prev, change: 'revoked' }, [
    {
      action: 'api_key.revoked',
      resourceId: id,
      resourceName: keyName(prev.doc),
      ...(prev.doc.workspaceId ? { workspaceId: prev.doc.workspaceId } : {}),
      metadata: { kind: prev.doc.kind },
    },
  ]);
  if (!(await apiKeyDocs.write(ctx.store, next, prev))) throw concurrentChange(`API key ${id}`);
  return publicKey(next);
}

/** A readable name for events, e.g. `personal key of usr_1`. */
function keyName(rec: ApiKeyRecord): string {
  switch (rec.kind) {
    case 'personal':
      return `personal key of ${rec.userId}`;
    case 'workspace':
      return `workspace key for ${rec.workspaceId}`;
    case 'ingest':
      return rec.orgId ? `ingest key for ${rec.orgId}` : 'ingest key (any org)';
  }
}
