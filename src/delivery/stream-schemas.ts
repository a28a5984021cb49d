/**
 * The push streams' API, declared once: the settings of each destination type, the filter, and the request
 * bodies, as TypeBox schemas that ajv validates with and the OpenAPI document shows. Which settings are
 * secret (write-only, encrypted at rest) is declared here too.
 */
import { Type, type Static, type TProperties, type TSchema } from '@sinclair/typebox';
import { ID_PATTERN } from '../events/schema.ts';
import { DatadogSettings } from './datadog.ts';
import type { StreamType } from './destination.ts';
import { SplunkHecSettings } from './splunk-hec.ts';
import { SyslogSettings } from './syslog.ts';

export const STREAM_TYPES: readonly StreamType[] = ['webhook', 'splunk_hec', 'datadog', 's3', 'syslog'];

const Url = Type.String({ pattern: '^https?://[^\\s/?#]+[^\\s]*$', maxLength: 2048 });
const Text = (max = 200) => Type.String({ minLength: 1, maxLength: max });
const Secret = Type.String({ minLength: 8, maxLength: 4096 });
/** A PEM CA bundle the receiver's certificate must chain to (TLS verification is always on). */
const Ca = Type.String({ pattern: '-----BEGIN CERTIFICATE-----', maxLength: 65536 });

const object = <T extends TProperties>(props: T) => Type.Object(props, { additionalProperties: false });

export const SETTINGS: Record<StreamType, TSchema> = {
  webhook: object({
    url: Url,
    secret: Type.Optional(Type.String({ pattern: '^whsec_[A-Za-z0-9+/]{32,}={0,2}$', maxLength: 200 })),
    ca: Type.Optional(Ca),
  }),
  // Each destination declares its own settings where it speaks its receiver's protocol.
  splunk_hec: SplunkHecSettings,
  datadog: DatadogSettings,
  s3: object({
    endpoint: Type.Optional(Url),
    region: Type.String({ pattern: '^[a-z0-9-]{1,64}$' }),
    bucket: Type.String({ pattern: '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$' }),
    prefix: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9!_.*()/-]{1,512}$' })),
    accessKeyId: Text(128),
    secretAccessKey: Secret,
    forcePathStyle: Type.Optional(Type.Boolean()),
    ca: Type.Optional(Ca),
  }),
  syslog: SyslogSettings,
};

/** Settings that are write-only: encrypted at rest, answered only as a hint. */
export const SECRET_FIELDS: Record<StreamType, readonly string[]> = {
  webhook: ['secret'],
  splunk_hec: ['token'],
  datadog: ['apiKey'],
  s3: ['secretAccessKey'],
  syslog: [],
};

/** `actions` entries may end in `*` (all actions starting with the rest). */
export const StreamFilter = object({
  actions: Type.Optional(
    Type.Array(Type.String({ pattern: '^[a-z0-9_]+(\\.[a-z0-9_]+)*(\\.\\*|\\*)?$', maxLength: 200 }), {
      minItems: 1,
      maxItems: 100,
    }),
  ),
  workspaceIds: Type.Optional(
    Type.Array(Type.String({ pattern: ID_PATTERN }), { minItems: 1, maxItems: 100 }),
  ),
});
export type StreamFilter = Static<typeof StreamFilter>;

const Name = Text();

/** First pass over `POST …/streams`: which type, so the second pass can name the type's own fields. */
export const StreamKind = Type.Object({
  type: Type.Unsafe<StreamType>(Type.String({ enum: [...STREAM_TYPES] })),
});

/** `POST …/streams` of one type. */
export const createBody = (type: StreamType) =>
  object({
    type: Type.Literal(type),
    name: Name,
    settings: SETTINGS[type],
    filter: Type.Optional(StreamFilter),
  });

export interface StreamInput {
  type: StreamType;
  name: string;
  settings: Record<string, unknown>;
  filter?: StreamFilter;
}

/** `PATCH …/streams/:id`: settings are merged into the stored ones (secrets left out stay as they are). */
export const PatchBody = object({
  name: Type.Optional(Name),
  settings: Type.Optional(Type.Object({}, { additionalProperties: true })),
  filter: Type.Optional(StreamFilter),
});
export type PatchBody = Static<typeof PatchBody>;

export const StreamPositionBody = object({
  seq: Type.Integer({ minimum: 1 }),
  leaf: Type.Integer({ minimum: 0 }),
});

/** `POST …/replay`: from an ISO time (the first seal written then), or from a stream position. */
export const ReplayBody = Type.Union([
  object({ from: Type.String({ format: 'date-time' }) }),
  object({ cursor: StreamPositionBody }),
]);
export type ReplayBody = Static<typeof ReplayBody>;

export const StreamParams = Type.Object({ id: Type.String({ pattern: '^str_[0-9a-f]{24}$' }) });

/** A stream as the API answers it. */
export const StreamView = object({
  id: Type.String(),
  orgId: Type.String(),
  type: Type.String({ enum: [...STREAM_TYPES] }),
  name: Type.String(),
  settings: Type.Object({}, { additionalProperties: true, description: 'Without the secret fields' }),
  secretHints: Type.Object(
    {},
    { additionalProperties: Type.String(), description: 'The last 4 characters of each secret setting' },
  ),
  filter: StreamFilter,
  status: Type.String({ enum: ['active', 'paused', 'failing', 'disabled'] }),
  cursor: StreamPositionBody,
  lagSeconds: Type.Number({ minimum: 0 }),
  delivered: Type.Integer({ minimum: 0 }),
  lastDeliveredAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  lastError: Type.Union([Type.String(), Type.Null()]),
  failingSince: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
  secret: Type.Optional(
    Type.String({ description: 'The generated webhook secret: in the create answer only' }),
  ),
});
export type StreamView = Static<typeof StreamView>;
