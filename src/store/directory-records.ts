/**
 * The directory's stored records (doc ids: orgs `orgId`, workspaces and members orgRecordId(orgId,
 * workspaceId / userId), api keys the key id, membership lookups `orgId`), as TypeBox schemas with the TypeScript
 * types derived from them. Declared here, with the storage layer that reads and writes them; the directory's
 * request schemas (src/directory/schemas.ts) reuse the plan and role enums.
 */
import { Type, type Static } from '@sinclair/typebox';

const Timestamp = Type.String({ format: 'date-time' });

export const PLANS = ['free', 'team', 'enterprise'] as const;
export type Plan = (typeof PLANS)[number];
export const ROLES = ['owner', 'admin', 'member'] as const;
export type Role = (typeof ROLES)[number];

// A plain `enum` (not a union of literals) so ajv's error lists the allowed values.
export const PlanSchema = Type.Unsafe<Plan>(Type.String({ enum: [...PLANS] }));
export const RoleSchema = Type.Unsafe<Role>(Type.String({ enum: [...ROLES] }));

export const Org = Type.Object({
  orgId: Type.String(),
  name: Type.String(),
  plan: PlanSchema,
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type Org = Static<typeof Org>;

export const Workspace = Type.Object({
  orgId: Type.String(),
  workspaceId: Type.String(),
  name: Type.String(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type Workspace = Static<typeof Workspace>;

export const Member = Type.Object({
  orgId: Type.String(),
  userId: Type.String(),
  email: Type.String(),
  name: Type.String(),
  role: RoleSchema,
  /** Start of the current (or, once left, the last) membership period. */
  joinedAt: Timestamp,
  /** Set when the member departs; absent while they are a member. */
  leftAt: Type.Optional(Timestamp),
  updatedAt: Timestamp,
});
export type Member = Static<typeof Member>;

/** The per-org lookup document the read path uses as an OpenSearch terms lookup (`_id` = orgId). */
export const Membership = Type.Object({
  orgId: Type.String(),
  current: Type.Array(Type.String()),
  departed: Type.Array(Type.String()),
});
export type Membership = Static<typeof Membership>;

export type KeyKind = 'personal' | 'workspace' | 'ingest';

/** A stored API key (index `audit-internal-api-keys`, `_id` = id). */
export interface ApiKeyRecord {
  id: string;
  kind: KeyKind;
  /** Absent only for an ingest key not bound to one org. */
  orgId?: string;
  /** personal: the user the key acts for. */
  userId?: string;
  /** workspace: the workspace it is narrowed to, and the member who created it. */
  workspaceId?: string;
  createdBy?: string;
  hash: string;
  createdAt: string;
  revokedAt?: string;
}
