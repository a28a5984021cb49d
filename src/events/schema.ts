/**
 * The audit event, declared once. The TypeBox schemas below are JSON Schemas (ajv validates with them) and
 * the TypeScript types are derived from them, so a field is declared in exactly one place.
 */
import { Type, type Static } from '@sinclair/typebox';

/** Ids: org, workspace, actor, event (the idempotency key). */
export const ID_MAX_LENGTH = 128;
export const ID_PATTERN = `^[A-Za-z0-9_.:-]{1,${ID_MAX_LENGTH}}$`;
/**
 * Org, workspace and user ids. A subset of the event id pattern (so they fit `orgId` / `workspaceId` /
 * `actorId` of events) that must start with a letter or digit: ids starting with `_` are reserved for the
 * service (see OPERATOR_ORG_ID in directory/audit.ts).
 */
export const DIRECTORY_ID_PATTERN = `^[A-Za-z0-9][A-Za-z0-9_.:-]{0,${ID_MAX_LENGTH - 1}}$`;
/** `resource.action`, lowercase, digits and `_`, two or more dot-separated parts. */
export const ACTION_PATTERN = '^[a-z0-9_]+(\\.[a-z0-9_]+)+$';
export const RESOURCE_TYPE_PATTERN = '^[a-z0-9_]+$';
export const METADATA_MAX_BYTES = 16 * 1024;
/** How far in the future a producer's clock may be. */
export const MAX_FUTURE_SKEW_MS = 5 * 60 * 1000;

const Id = Type.String({ pattern: ID_PATTERN });
const Text = (maxLength: number) => Type.String({ maxLength });

/** What a producer may send. */
export const EventInput = Type.Object(
  {
    orgId: Type.Optional(Id),
    id: Type.Optional(Id),
    action: Type.String({ pattern: ACTION_PATTERN, maxLength: 128 }),
    resourceType: Type.String({ pattern: RESOURCE_TYPE_PATTERN, minLength: 1, maxLength: 64 }),
    resourceId: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    resourceName: Type.Optional(Text(512)),
    description: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })),
    actorId: Type.Optional(Id),
    actorName: Type.Optional(Text(256)),
    actorEmail: Type.Optional(Type.String({ format: 'email', maxLength: 320 })),
    workspaceId: Type.Optional(Id),
    metadata: Type.Optional(Type.Record(Type.String({ maxLength: 256 }), Type.Unknown())),
    createdAt: Type.Optional(Type.String({ format: 'date-time', maxLength: 40 })),
    ipAddress: Type.Optional(Type.Union([Type.String({ format: 'ipv4' }), Type.String({ format: 'ipv6' })])),
    userAgent: Type.Optional(Text(1024)),
  },
  { additionalProperties: false },
);
export type EventInput = Static<typeof EventInput>;

/** The twelve fields every read returns, in this order (absent values are null, metadata `{}`). */
export const PUBLIC_FIELDS = [
  'id',
  'action',
  'resourceType',
  'resourceId',
  'resourceName',
  'description',
  'actorId',
  'actorName',
  'actorEmail',
  'workspaceId',
  'metadata',
  'createdAt',
] as const;

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

export const AuditEntry = Type.Object(
  {
    id: Type.String(),
    action: Type.String(),
    resourceType: Type.String(),
    resourceId: Nullable(Type.String()),
    resourceName: Nullable(Type.String()),
    description: Type.String(),
    actorId: Nullable(Type.String()),
    actorName: Nullable(Type.String()),
    actorEmail: Nullable(Type.String()),
    workspaceId: Nullable(Type.String()),
    metadata: Type.Record(Type.String(), Type.Unknown()),
    createdAt: Type.String({ format: 'date-time' }),
  },
  { additionalProperties: false },
);
/** An entry as the API returns it. */
export type AuditEntry = Static<typeof AuditEntry>;

/** An event as stored in its day index: the public fields plus what no read returns. */
export type StoredEvent = AuditEntry & {
  orgId: string;
  /** When the service accepted it (ISO, ms). */
  acceptedAt: string;
  ipAddress: string | null;
  userAgent: string | null;
  /** Secret random value committed in the event's leaf with the fields above (absent on older events). */
  salt?: string;
};

/** The public entry of a stored event: exactly the twelve fields, never the IP address, user agent or salt. */
export function toEntry(doc: StoredEvent): AuditEntry {
  return {
    id: doc.id,
    action: doc.action,
    resourceType: doc.resourceType,
    resourceId: doc.resourceId ?? null,
    resourceName: doc.resourceName ?? null,
    description: doc.description,
    actorId: doc.actorId ?? null,
    actorName: doc.actorName ?? null,
    actorEmail: doc.actorEmail ?? null,
    workspaceId: doc.workspaceId ?? null,
    metadata: doc.metadata ?? {},
    createdAt: new Date(doc.createdAt).toISOString(),
  };
}
