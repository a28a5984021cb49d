/**
 * Fixtures for the read-path tests: a running service whose ingest accepts 1995 events (the read tests' own
 * year), orgs with every kind of key, and events written through the real ingest path.
 */
import type { AppContext } from '../../src/context.ts';
import { createApiKey, revokeApiKey } from '../../src/directory/api-keys.ts';
import { putMember, removeMember } from '../../src/directory/members.ts';
import { putOrg } from '../../src/directory/orgs.ts';
import { putWorkspace } from '../../src/directory/workspaces.ts';
import type { AuditEntry } from '../../src/events/schema.ts';
import { ingestEvents } from '../../src/ingest/ingest.ts';
import { startService, type RunningService } from '../../src/server.ts';
import { testConfig, uniqueId } from '../helpers.ts';

/** Events of 1995 are ~31 years old: the service must not consider that day sealed. */
export const OLD_DAYS_WRITABLE = { AUDIT_SEAL_AFTER_DAYS: '36499', AUDIT_RETENTION_DAYS: '36500' };

export interface ReadService extends RunningService {
  ctx: AppContext;
}

export async function startReadService(env: Record<string, string> = {}): Promise<ReadService> {
  const cfg = testConfig({ AUDIT_LOGS_ENABLED: 'true', ...OLD_DAYS_WRITABLE, ...env });
  const service = await startService(cfg);
  return { ...service, ctx: { cfg, store: service.store } };
}

export interface TestOrg {
  orgId: string;
  ws: [string, string];
  users: { owner: string; admin: string; member: string; departed: string; demoted: string };
  keys: {
    owner: string;
    admin: string;
    workspace: string;
    member: string;
    departed: string;
    demoted: string;
    ingest: string;
    revoked: string;
    /** A workspace key whose creator has since been demoted. */
    orphanWorkspace: string;
  };
}

/** An enterprise org with two workspaces, members of every standing and a key of every kind. */
export async function createOrg(ctx: AppContext): Promise<TestOrg> {
  const orgId = uniqueId('org');
  await putOrg(ctx, orgId, { name: `Org ${orgId}`, plan: 'enterprise' });
  const ws: [string, string] = [uniqueId('ws'), uniqueId('ws')];
  for (const w of ws) await putWorkspace(ctx, orgId, w, { name: `Workspace ${w}` });
  const users = {
    owner: uniqueId('usr'),
    admin: uniqueId('usr'),
    member: uniqueId('usr'),
    departed: uniqueId('usr'),
    demoted: uniqueId('usr'),
  };
  const role = {
    owner: 'owner',
    admin: 'admin',
    member: 'member',
    departed: 'admin',
    demoted: 'admin',
  } as const;
  for (const [k, userId] of Object.entries(users) as [keyof typeof users, string][]) {
    await putMember(ctx, orgId, userId, { email: `${userId}@example.com`, name: `User ${k}`, role: role[k] });
  }
  const personal = async (userId: string) =>
    (await createApiKey(ctx, orgId, { type: 'personal', userId })).key;
  const keys = {
    owner: await personal(users.owner),
    admin: await personal(users.admin),
    workspace: (
      await createApiKey(ctx, orgId, { type: 'workspace', workspaceId: ws[0], createdBy: users.admin })
    ).key,
    member: await personal(users.member),
    departed: await personal(users.departed),
    demoted: await personal(users.demoted),
    ingest: (await createApiKey(ctx, undefined, { type: 'ingest', orgId })).key,
    revoked: '',
    orphanWorkspace: (
      await createApiKey(ctx, orgId, { type: 'workspace', workspaceId: ws[1], createdBy: users.demoted })
    ).key,
  };
  const revoked = await createApiKey(ctx, orgId, { type: 'personal', userId: users.owner });
  await revokeApiKey(ctx, revoked.id);
  keys.revoked = revoked.key;
  await removeMember(ctx, orgId, users.departed);
  await putMember(ctx, orgId, users.demoted, {
    email: `${users.demoted}@example.com`,
    name: 'User demoted',
    role: 'member',
  });
  return { orgId, ws, users, keys };
}

/** Writes events through the ingest path (every one must be created) and makes them searchable. */
export async function ingest(
  ctx: AppContext,
  orgId: string,
  events: Record<string, unknown>[],
): Promise<void> {
  for (let i = 0; i < events.length; i += 1000) {
    const results = await ingestEvents(ctx, { boundOrgId: orgId }, events.slice(i, i + 1000));
    const bad = results.filter((r) => r.status !== 'created');
    if (bad.length) throw new Error(`ingest refused fixture events: ${JSON.stringify(bad.slice(0, 3))}`);
  }
  await ctx.store.indices.refresh({ index: 'audit-logs-*' });
}

export interface Api {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  text: string;
}

export async function get(base: string, path: string, key?: string): Promise<Api> {
  const res = await fetch(`${base}${path}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, headers: res.headers, body, text };
}

/** Follows nextCursor until it is absent; every page must be 200. */
export async function readAll(
  base: string,
  query: string,
  key: string,
  limit: number,
): Promise<AuditEntry[]> {
  const out: AuditEntry[] = [];
  let cursor: string | undefined;
  for (;;) {
    const sep = query ? '&' : '';
    const c = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
    const res = await get(base, `/api/v1/audit-logs?${query}${sep}limit=${limit}${c}`, key);
    if (res.status !== 200) throw new Error(`page answered ${res.status}: ${res.text}`);
    out.push(...res.body.data);
    if (res.body.nextCursor === undefined) return out;
    if (res.body.data.length !== limit) throw new Error('a page before the last one was not full');
    cursor = res.body.nextCursor;
  }
}

/** Newest first, id breaking ties (byte order, as OpenSearch sorts keywords). */
export function byNewest(a: { createdAt: string; id: string }, b: { createdAt: string; id: string }): number {
  const t = Date.parse(b.createdAt) - Date.parse(a.createdAt);
  return t !== 0 ? t : a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}
