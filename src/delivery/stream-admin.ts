/**
 * Managing an org's push streams: create, change, delete, pause, resume, replay. Every change is first
 * recorded as an event in the org's own audit log (through the directory's recorder: same ingest path, same
 * retry-safe ids), then written. Secret settings are sealed before they are stored and never answered.
 */
import crypto from 'node:crypto';
import type { AppContext } from '../context.ts';
import { recordDirectoryEvents, type ChangeActor } from '../directory/audit.ts';
import { InvalidInput } from '../errors.ts';
import { INTERNAL } from '../store/names.ts';
import { firstSealSince, newestSeal } from '../store/seal-store.ts';
import {
  deleteStreamDoc,
  listOrgStreamDocs,
  writeStreamDoc,
  type StreamDoc,
  type StreamStatus,
} from '../store/stream-configs.ts';
import { STREAM_START } from '../stream/read.ts';
import { AddressRefused } from './address-guard.ts';
import type { StreamType } from './destination.ts';
import type { StreamEnv } from './destinations.ts';
import { checkedUrl } from './guarded-http.ts';
import { mutateStream, requireStream } from './stream-docs.ts';
import { SECRET_FIELDS, type PatchBody, type ReplayBody, type StreamInput } from './stream-schemas.ts';
import { streamView } from './stream-view.ts';
import { validateStreamInput } from './stream-validators.ts';
import { newWebhookSecret } from './webhook.ts';

export interface StreamCall {
  ctx: AppContext;
  env: StreamEnv;
  orgId: string;
  actor: ChangeActor;
}

/** Refuses what no connection would be allowed to reach, already when the stream is saved. */
function checkReachable(env: StreamEnv, settings: Record<string, unknown>): void {
  for (const field of ['url', 'endpoint']) {
    const value = settings[field];
    if (typeof value !== 'string') continue;
    try {
      checkedUrl(value, env.deps.allowPrivate);
    } catch (err) {
      if (err instanceof AddressRefused) throw new InvalidInput(err.message, `settings.${field}`, 'body');
      throw new InvalidInput(`"settings.${field}" is not a URL.`, `settings.${field}`, 'body');
    }
  }
}

/** Splits settings into what is stored in clear and the secrets that are sealed. */
function split(type: StreamType, settings: Record<string, unknown>) {
  const clear: Record<string, unknown> = {};
  const secret: Record<string, string> = {};
  for (const [k, v] of Object.entries(settings)) {
    if (SECRET_FIELDS[type].includes(k)) secret[k] = String(v);
    else clear[k] = v;
  }
  return { clear, secret };
}

const streamRef = (id: string) => ({ index: INTERNAL.streams, id });

async function record(
  call: StreamCall,
  doc: StreamDoc,
  action: string,
  change: unknown,
  metadata: Record<string, unknown> = {},
): Promise<void> {
  await recordDirectoryEvents(
    call.ctx,
    doc.orgId,
    // The basis names the configuration's version (updatedAt), not the document's, which the cursor moves.
    { ...streamRef(doc.id), prev: undefined, change: { from: doc.updatedAt, change } },
    [
      {
        action,
        resourceId: doc.id,
        resourceName: doc.name,
        metadata: { type: doc.type, ...metadata },
      },
    ],
    call.actor,
  );
}

export async function createStream(call: StreamCall, body: unknown) {
  const input = validateStreamInput(body);
  let generated: string | undefined;
  if (input.type === 'webhook' && input.settings.secret === undefined) {
    generated = newWebhookSecret();
    input.settings.secret = generated;
  }
  checkReachable(call.env, input.settings);
  const id = `str_${crypto.randomBytes(12).toString('hex')}`;
  const now = new Date().toISOString();
  const { clear, secret } = split(input.type, input.settings);
  const doc: StreamDoc = {
    id,
    orgId: call.orgId,
    type: input.type,
    name: input.name,
    settings: clear,
    secrets: call.env.secrets.seal(id, secret),
    filter: input.filter ?? {},
    status: 'active',
    cursor: STREAM_START,
    delivered: 0,
    createdAt: now,
    updatedAt: now,
  };
  await record(
    call,
    doc,
    'audit_stream.created',
    { clear, filter: doc.filter },
    {
      settings: clear,
      filter: doc.filter,
    },
  );
  await writeStreamDoc(call.ctx.store, doc, undefined);
  const view = await streamView(call.ctx.store, call.env.secrets, doc);
  return generated ? { ...view, secret: generated } : view;
}

export async function listStreams(call: Pick<StreamCall, 'ctx' | 'env' | 'orgId'>) {
  const docs = await listOrgStreamDocs(call.ctx.store, call.orgId);
  return Promise.all(docs.map((d) => streamView(call.ctx.store, call.env.secrets, d.doc)));
}

export async function getStream(call: Pick<StreamCall, 'ctx' | 'env' | 'orgId'>, id: string) {
  const { doc } = await requireStream(call.ctx.store, call.orgId, id);
  return streamView(call.ctx.store, call.env.secrets, doc);
}

export async function updateStream(call: StreamCall, id: string, patch: PatchBody) {
  const { doc } = await requireStream(call.ctx.store, call.orgId, id);
  const stored = { ...doc.settings, ...call.env.secrets.open(doc.id, doc.secrets) };
  const input: StreamInput = validateStreamInput({
    type: doc.type,
    name: patch.name ?? doc.name,
    settings: { ...stored, ...(patch.settings ?? {}) },
    ...(Object.keys(patch.filter ?? doc.filter).length ? { filter: patch.filter ?? doc.filter } : {}),
  });
  checkReachable(call.env, input.settings);
  const { clear, secret } = split(input.type, input.settings);
  const changed = [
    ...Object.keys(patch.settings ?? {}).map((k) => `settings.${k}`),
    ...(patch.name !== undefined ? ['name'] : []),
    ...(patch.filter !== undefined ? ['filter'] : []),
  ];
  await record(
    call,
    doc,
    'audit_stream.updated',
    { clear, name: input.name, filter: input.filter, secret: changed },
    {
      changed,
    },
  );
  const updatedAt = new Date().toISOString();
  const sealed = call.env.secrets.seal(doc.id, secret);
  const next = await mutateStream(call.ctx.store, id, (d) => ({
    ...d,
    name: input.name,
    settings: clear,
    secrets: sealed,
    filter: input.filter ?? {},
    updatedAt,
  }));
  return streamView(call.ctx.store, call.env.secrets, next ?? doc);
}

export async function deleteStream(call: StreamCall, id: string) {
  const found = await requireStream(call.ctx.store, call.orgId, id);
  await record(call, found.doc, 'audit_stream.deleted', 'deleted');
  let current = found;
  while (!(await deleteStreamDoc(call.ctx.store, current))) {
    const again = await requireStream(call.ctx.store, call.orgId, id).catch(() => undefined);
    if (!again) break;
    current = again;
  }
  return { id, deleted: true };
}

/** Pause (`paused`) or resume (`active`: from the cursor, whatever the status was, `disabled` too). */
export async function setStreamStatus(
  call: StreamCall,
  id: string,
  status: Extract<StreamStatus, 'paused' | 'active'>,
) {
  const { doc } = await requireStream(call.ctx.store, call.orgId, id);
  await record(call, doc, status === 'paused' ? 'audit_stream.paused' : 'audit_stream.resumed', status, {
    previousStatus: doc.status,
  });
  const updatedAt = new Date().toISOString();
  const next = await mutateStream(call.ctx.store, id, (d) => ({
    ...d,
    status,
    ...(status === 'active' ? { failingSince: undefined, lastError: undefined } : {}),
    updatedAt,
  }));
  return streamView(call.ctx.store, call.env.secrets, next ?? doc);
}

/** Moves the cursor back (or forward) to a stream position, or to the first seal written at or after a time. */
export async function replayStream(call: StreamCall, id: string, body: ReplayBody) {
  const { doc } = await requireStream(call.ctx.store, call.orgId, id);
  let cursor: StreamDoc['cursor'];
  if ('cursor' in body) cursor = body.cursor;
  else {
    const seq = await firstSealSince(call.ctx.store, doc.orgId, new Date(body.from).toISOString());
    cursor = { seq: seq ?? ((await newestSeal(call.ctx.store, doc.orgId))?.seq ?? 0) + 1, leaf: 0 };
  }
  await record(call, doc, 'audit_stream.replayed', { cursor, body }, { ...body, cursor });
  const updatedAt = new Date().toISOString();
  const next = await mutateStream(call.ctx.store, id, (d) => ({
    ...d,
    cursor,
    updatedAt,
    replayedAt: updatedAt,
  }));
  return streamView(call.ctx.store, call.env.secrets, next ?? doc);
}
