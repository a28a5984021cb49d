/**
 * The directory, declared once: request bodies of the operator API as TypeBox schemas (ajv validates with
 * them) with the TypeScript types derived from them; the stored records come from src/store/directory-records.ts.
 */
import { Type, type Static } from '@sinclair/typebox';
import { DIRECTORY_ID_PATTERN } from '../events/schema.ts';
import { PlanSchema, RoleSchema, type Role } from '../store/directory-records.ts';

const DirectoryId = Type.String({ pattern: DIRECTORY_ID_PATTERN });
const Name = Type.String({ minLength: 1, maxLength: 200 });

/** Roles whose personal keys (and workspace keys they created) may read the org's audit log. */
export const READER_ROLES: readonly Role[] = ['owner', 'admin'];

// --- Request bodies and path parameters ------------------------------------------------------------

export const OrgParams = Type.Object({ orgId: DirectoryId });
export const WorkspaceParams = Type.Object({ orgId: DirectoryId, workspaceId: DirectoryId });
export const MemberParams = Type.Object({ orgId: DirectoryId, userId: DirectoryId });
export const KeyParams = Type.Object({ id: DirectoryId });

export const OrgBody = Type.Object({ name: Name, plan: PlanSchema }, { additionalProperties: false });
export type OrgBody = Static<typeof OrgBody>;

export const WorkspaceBody = Type.Object({ name: Name }, { additionalProperties: false });
export type WorkspaceBody = Static<typeof WorkspaceBody>;

export const MemberBody = Type.Object(
  { email: Type.String({ format: 'email', maxLength: 320 }), name: Name, role: RoleSchema },
  { additionalProperties: false },
);
export type MemberBody = Static<typeof MemberBody>;

/** Most members one sync may list. */
export const MAX_SYNC_MEMBERS = 200_000;

export const MemberListEntry = Type.Object(
  {
    userId: DirectoryId,
    email: Type.String({ format: 'email', maxLength: 320 }),
    name: Name,
    role: RoleSchema,
  },
  { additionalProperties: false },
);
export type MemberListEntry = Static<typeof MemberListEntry>;

/** `PUT …/members`: the org's complete member list; who is not listed has departed. */
export const MemberListBody = Type.Object(
  { members: Type.Array(MemberListEntry, { maxItems: MAX_SYNC_MEMBERS }) },
  { additionalProperties: false },
);
export type MemberListBody = Static<typeof MemberListBody>;

/** First pass over `POST …/api-keys`: which kind, so the second pass can name the kind's own fields. */
export const OrgKeyKind = Type.Object({
  type: Type.Unsafe<'personal' | 'workspace'>(Type.String({ enum: ['personal', 'workspace'] })),
});

export const PersonalKeyBody = Type.Object(
  { type: Type.Literal('personal'), userId: DirectoryId },
  { additionalProperties: false },
);
export type PersonalKeyBody = Static<typeof PersonalKeyBody>;

export const WorkspaceKeyBody = Type.Object(
  { type: Type.Literal('workspace'), workspaceId: DirectoryId, createdBy: DirectoryId },
  { additionalProperties: false },
);
export type WorkspaceKeyBody = Static<typeof WorkspaceKeyBody>;

export const IngestKeyBody = Type.Object(
  { orgId: Type.Optional(DirectoryId) },
  { additionalProperties: false },
);
export type IngestKeyBody = Static<typeof IngestKeyBody>;

// --- Stored records: declared with the storage layer that reads and writes them -------------------------

export {
  Member,
  Membership,
  Org,
  PLANS,
  ROLES,
  Workspace,
  type Plan,
  type Role,
} from '../store/directory-records.ts';
