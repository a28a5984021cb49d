/**
 * Checks one producer event and turns it into the document stored in its day index.
 *
 * Two stages: `checkEvent` is pure (the `EventInput` schema, compiled once, plus the rules a schema cannot
 * say: clock skew, metadata size, the key's org, a sealed day by age); `checkStorage` asks OpenSearch what only
 * it knows (does the org exist, is the day's index write-blocked). Every rejection names the field at fault.
 */
import { dayAgeDays } from '../days.ts';
import type { ErrorObject } from 'ajv';
import { monotonicFactory } from 'ulid';
import { describe } from '../events/catalogue.ts';
import {
  DIRECTORY_ID_PATTERN,
  EventInput,
  ID_MAX_LENGTH,
  ID_PATTERN,
  MAX_FUTURE_SKEW_MS,
  METADATA_MAX_BYTES,
  type StoredEvent,
} from '../events/schema.ts';
import { constructorKey, LONE_SURROGATE, loneSurrogate, MAX_DEPTH, protoKey, tooDeep } from '../json-scan.ts';
import type { Store } from '../store/client.ts';
import { orgDocs } from '../store/directory.ts';
import { indicesRefusingWrites } from '../store/index-blocks.ts';
import { dayIndex } from '../store/names.ts';
import { ajv } from '../validation.ts';

const validateInput = ajv.compile<EventInput>(EventInput);

/** Time-sortable ids, strictly increasing even within one millisecond. */
const nextUlid = monotonicFactory();

export interface Rejection {
  ok: false;
  /** The producer's id when it sent a usable one, else ''. */
  id: string;
  param?: string;
  error: string;
}
export interface Accepted {
  ok: true;
  doc: StoredEvent;
  /** The day index the event belongs to (UTC day of createdAt). */
  index: string;
}
export type Checked = Accepted | Rejection;

export interface CheckOptions {
  /** The org an ingest key is bound to, if any. */
  boundOrgId?: string;
  now: Date;
  sealAfterDays: number;
}

const { action, resourceType, actorEmail } = EventInput.properties;
const idRule = (field: string) =>
  `${field} must be 1-${ID_MAX_LENGTH} characters of letters, digits, "_", ".", ":" or "-"`;
/**
 * Field-specific sentences for schema failures, with the schema's own limits; anything else gets ajv's own
 * words after the field name.
 */
const FIELD_RULES: Record<string, string> = {
  orgId: idRule('orgId'),
  id: idRule('id'),
  actorId: idRule('actorId'),
  workspaceId: idRule('workspaceId'),
  action:
    'action must be "resource.action": lowercase letters, digits and "_" in two or more dot-separated parts ' +
    `(e.g. "workflow.created"), at most ${action.maxLength} characters`,
  resourceType: `resourceType must be ${resourceType.minLength}-${resourceType.maxLength} lowercase letters, digits or "_" (e.g. "workflow")`,
  createdAt: 'createdAt must be an ISO 8601 date-time with a time zone, e.g. "2024-05-01T12:00:00.000Z"',
  actorEmail: `actorEmail must be an email address of at most ${actorEmail.maxLength} characters`,
  ipAddress: 'ipAddress must be an IPv4 or IPv6 address',
  metadata: 'metadata must be a JSON object',
};

function schemaRejection(input: unknown, err: ErrorObject | undefined): Rejection {
  const id = usableId(input);
  const field = err?.instancePath.split('/')[1];
  if (!err || !field) {
    switch (err?.keyword) {
      case 'additionalProperties': {
        const name = String(err.params.additionalProperty);
        return {
          ok: false,
          id,
          param: name,
          error: `${name} is not a field of an event; remove it (see the README)`,
        };
      }
      case 'required': {
        const name = String(err.params.missingProperty);
        return { ok: false, id, param: name, error: `${name} is required` };
      }
      default:
        return { ok: false, id, error: 'Each event must be a JSON object' };
    }
  }
  const value = (input as Record<string, unknown>)[field];
  if (err.keyword === 'type' && typeof value !== 'string' && field !== 'metadata') {
    return { ok: false, id, param: field, error: `${field} must be a string (got ${jsonType(value)})` };
  }
  const rule = FIELD_RULES[field];
  if (rule) return { ok: false, id, param: field, error: rule };
  if (err.keyword === 'maxLength' || err.keyword === 'minLength') {
    const { limit } = err.params as { limit: number };
    const rule = err.keyword === 'maxLength' ? `at most ${limit}` : `at least ${limit}`;
    return { ok: false, id, param: field, error: `${field} must be ${rule} characters long` };
  }
  return { ok: false, id, param: field, error: `${field} ${err.message ?? 'is invalid'}` };
}

function jsonType(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : `a ${typeof v}`;
}

const EVENT_ID = new RegExp(ID_PATTERN);

/** The producer's id when it is one we could answer with, else ''. */
export function usableId(input: unknown): string {
  const id = input && typeof input === 'object' ? (input as { id?: unknown }).id : undefined;
  return typeof id === 'string' && EVENT_ID.test(id) ? id : '';
}

/** The pure checks; on success the stored document (acceptedAt = now) and its day index. */
export function checkEvent(input: unknown, opts: CheckOptions): Checked {
  if (!validateInput(input)) return schemaRejection(input, validateInput.errors?.[0]);
  const reject = (param: string, error: string): Rejection => ({
    ok: false,
    id: input.id ?? '',
    param,
    error,
  });

  let orgId = input.orgId;
  if (opts.boundOrgId) {
    if (orgId !== undefined && orgId !== opts.boundOrgId) {
      return reject(
        'orgId',
        `orgId "${orgId}" is not the org this ingest key is bound to; omit orgId or send "${opts.boundOrgId}"`,
      );
    }
    orgId = opts.boundOrgId;
  } else if (orgId === undefined) {
    return reject('orgId', 'orgId is required: this ingest key is not bound to one org');
  } else if (!ORG_ID.test(orgId)) {
    // Ids the directory cannot create (a leading `_`) are the service's own, such as its operator org.
    return reject('orgId', `orgId "${orgId}" is reserved for the service's own records; send your org's id`);
  }

  if (input.createdAt !== undefined && finerThanMs(input.createdAt)) {
    return reject(
      'createdAt',
      `createdAt ${input.createdAt} is more precise than the millisecond it would be stored with; send at ` +
        'most 3 fractional digits (e.g. "2024-05-01T12:00:00.123Z")',
    );
  }

  const createdAtMs = input.createdAt === undefined ? opts.now.getTime() : Date.parse(input.createdAt);
  if (Number.isNaN(createdAtMs)) return reject('createdAt', FIELD_RULES.createdAt!);
  if (createdAtMs > opts.now.getTime() + MAX_FUTURE_SKEW_MS) {
    return reject(
      'createdAt',
      `createdAt ${input.createdAt} is more than ${MAX_FUTURE_SKEW_MS / 60_000} minutes in the future; check the producer's clock`,
    );
  }
  const createdAt = new Date(createdAtMs);
  const age = dayAgeDays(createdAt, opts.now);
  if (age >= opts.sealAfterDays) {
    return reject(
      'createdAt',
      sealedMessage(createdAt, `it is ${age} days old and days are sealed after ${opts.sealAfterDays}`),
    );
  }

  // Before anything walks metadata recursively (JSON.stringify): a hostile depth must not reach it.
  const unsafe = unsafeValueAt(input);
  if (unsafe) return reject(unsafe.param, unsafe.message);

  const metadata = input.metadata ?? {};
  const metadataBytes = Buffer.byteLength(JSON.stringify(metadata));
  if (metadataBytes > METADATA_MAX_BYTES) {
    return reject(
      'metadata',
      `metadata is ${metadataBytes} bytes as JSON; at most ${METADATA_MAX_BYTES} bytes are allowed`,
    );
  }

  // Keys in leaf.ts's CANONICAL_KEYS order, a slot for the salt: with sealing on, serialized once as it is.
  const doc: StoredEvent = {
    acceptedAt: opts.now.toISOString(),
    ipAddress: input.ipAddress ?? null,
    orgId,
    salt: undefined,
    userAgent: input.userAgent ?? null,
    action: input.action,
    actorEmail: input.actorEmail ?? null,
    actorId: input.actorId ?? null,
    actorName: input.actorName ?? null,
    createdAt: createdAt.toISOString(),
    description: input.description ?? describe(input),
    // A ULID's time cannot be before 1970; a day that old is accepted only where the seal age allows it.
    id: input.id ?? nextUlid(Math.max(createdAtMs, 0)),
    metadata,
    resourceId: input.resourceId ?? null,
    resourceName: input.resourceName ?? null,
    resourceType: input.resourceType,
    workspaceId: input.workspaceId ?? null,
  };
  return { ok: true, doc, index: dayIndex(createdAt) };
}

const ORG_ID = new RegExp(DIRECTORY_ID_PATTERN);

/** A fraction of a second with a non-zero digit past the millisecond (which Date would drop). */
function finerThanMs(dateTime: string): boolean {
  const fraction = /\.(\d+)/.exec(dateTime)?.[1] ?? '';
  return /[1-9]/.test(fraction.slice(3));
}

/**
 * The first place in a parsed event that could not be stored and read back as it is, with why: a string (or
 * key) that is not well-formed Unicode (it has no UTF-8 form, so it can be neither canonicalized (RFC 8785)
 * for its leaf nor read back the same), nesting deeper than MAX_DEPTH, or a key the OpenSearch client's
 * parser refuses in every answer (strict-json.ts). The request body was scanned already; this covers events
 * ingested from code. Iterative: no input can exhaust the stack.
 */
function unsafeValueAt(event: object): { param: string; message: string } | undefined {
  const pending: [value: unknown, path: string, depth: number][] = [[event, '', 0]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [value, path, depth] = next;
    if (typeof value === 'string') {
      if (LONE_SURROGATE.test(value)) return { param: fieldOf(path), message: loneSurrogate(path) };
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth > MAX_DEPTH) return { param: path, message: tooDeep(path) };
    const children: [unknown, string, number][] = [];
    if (Array.isArray(value)) {
      value.forEach((v, i) => children.push([v, `${path}[${i}]`, depth + 1]));
    } else {
      for (const [k, v] of Object.entries(value)) {
        const at = path ? `${path}.${k}` : k;
        if (LONE_SURROGATE.test(k)) return { param: fieldOf(at), message: loneSurrogate(at) };
        if (k === '__proto__') return { param: at, message: protoKey(at) };
        if (k === 'constructor' && (v === null || (typeof v === 'object' && Object.hasOwn(v, 'prototype'))))
          return { param: at, message: constructorKey(at) };
        children.push([v, at, depth + 1]);
      }
    }
    // Reversed onto the stack, so the first field is looked at first.
    for (let i = children.length - 1; i >= 0; i--) pending.push(children[i]!);
  }
  return undefined;
}

const fieldOf = (path: string) => path.split(/[.[]/)[0]!;

function sealedMessage(createdAt: Date, why: string): string {
  return (
    `createdAt ${createdAt.toISOString()} falls on UTC day ${createdAt.toISOString().slice(0, 10)}, which is ` +
    `sealed (${why}); sealed days are read-only and accept no more events`
  );
}

/**
 * What only OpenSearch knows: every org must exist in the directory, and no event may go to a write-blocked
 * day index (sealed by the lifecycle sweep or by an operator). One mget and one settings call per request.
 */
export async function checkStorage(store: Store, checked: Checked[]): Promise<Checked[]> {
  const accepted = checked.filter((c): c is Accepted => c.ok);
  if (accepted.length === 0) return checked;
  const orgIds = [...new Set(accepted.map((c) => c.doc.orgId))];
  const indices = [...new Set(accepted.map((c) => c.index))];
  const [known, blocked] = await Promise.all([
    orgDocs.existing(store, orgIds),
    indicesRefusingWrites(store, indices),
  ]);
  return checked.map((c) => {
    if (!c.ok) return c;
    if (!known.has(c.doc.orgId)) {
      return {
        ok: false,
        id: c.doc.id,
        param: 'orgId',
        error: `orgId "${c.doc.orgId}" is not a known organization; create it first (npm run admin, or PUT /api/v1/admin/orgs/:orgId)`,
      };
    }
    if (blocked.has(c.index)) {
      return {
        ok: false,
        id: c.doc.id,
        param: 'createdAt',
        error: sealedMessage(new Date(c.doc.createdAt), `its index ${c.index} is write-blocked`),
      };
    }
    return c;
  });
}
