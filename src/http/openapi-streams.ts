/**
 * The push streams' part of the OpenAPI document: the same operations under /api/v1/audit-logs/streams
 * (personal keys of owners and admins) and /api/v1/admin/orgs/{orgId}/streams (the operator), built from the
 * schemas the API validates with.
 */
import { Type } from '@sinclair/typebox';
import * as D from '../directory/schemas.ts';
import * as S from '../delivery/stream-schemas.ts';

import { json, operation, plain, ref, type Json } from './openapi-parts.ts';

export const streamSchemas: Json = {
  StreamSettings: plain(
    Type.Object({
      webhook: S.SETTINGS.webhook,
      splunk_hec: S.SETTINGS.splunk_hec,
      datadog: S.SETTINGS.datadog,
      s3: S.SETTINGS.s3,
      syslog: S.SETTINGS.syslog,
    }),
  ),
  StreamCreateBody: { oneOf: S.STREAM_TYPES.map((t) => plain(S.createBody(t))) },
  StreamPatchBody: plain(S.PatchBody),
  StreamReplayBody: plain(S.ReplayBody),
  Stream: plain(S.StreamView),
  StreamList: plain(
    Type.Object(
      { data: Type.Array(Type.Unsafe({ $ref: '#/components/schemas/Stream' })) },
      { additionalProperties: false },
    ),
  ),
  StreamDeleted: plain(
    Type.Object({ id: Type.String(), deleted: Type.Literal(true) }, { additionalProperties: false }),
  ),
  StreamTestResult: plain(
    Type.Object(
      {
        ok: Type.Boolean(),
        status: Type.Union([Type.Integer(), Type.Null()], {
          description: "The receiver's HTTP status on a failure",
        }),
        reply: Type.Union([Type.String(), Type.Null()], { description: "The receiver's reply on success" }),
        error: Type.Union([Type.String(), Type.Null()]),
      },
      { additionalProperties: false },
    ),
  ),
};

const idParam = { name: 'id', in: 'path', required: true, schema: plain(S.StreamParams.properties.id) };
const orgParam = { name: 'orgId', in: 'path', required: true, schema: plain(D.OrgParams.properties.orgId) };

export function streamPaths(): Json {
  const b = { operation, ref, json };
  const out: Json = {};
  for (const admin of [false, true]) {
    const base = admin ? '/api/v1/admin/orgs/{orgId}/streams' : '/api/v1/audit-logs/streams';
    const tag = admin ? ('operator' as const) : ('streams' as const);
    const errs = admin ? [400, 401, 404, 429, 500, 503] : [400, 401, 403, 404, 429, 500, 503];
    const pre = admin ? [orgParam] : [];
    const op = (
      name: string,
      summary: string,
      ok: Record<number, { description: string; schema?: Json }>,
      extra: { id?: boolean; body?: Json; conflict?: boolean } = {},
    ) =>
      b.operation({
        operationId: `${name}${admin ? 'AsOperator' : ''}`,
        summary,
        tag,
        parameters: extra.id ? [...pre, idParam] : pre,
        ...(extra.body ? { body: extra.body } : {}),
        ok,
        errors: extra.conflict ? [...errs, 409] : errs,
      });
    const stream = { description: 'The stream', schema: b.ref('Stream') };
    out[base] = {
      get: op('listStreams', "The org's push streams", {
        200: { description: 'Every stream', schema: b.ref('StreamList') },
      }),
      post: op(
        'createStream',
        'Create a push stream (a webhook secret is generated when absent and answered once, as `secret`)',
        { 201: { description: 'The stream', schema: b.ref('Stream') } },
        { body: b.json(b.ref('StreamCreateBody')) },
      ),
    };
    out[`${base}/{id}`] = {
      get: op('getStream', 'One stream, with its status, lag and last error', { 200: stream }, { id: true }),
      patch: op(
        'updateStream',
        'Change name, settings (merged; secrets left out stay) or filter',
        { 200: stream },
        { id: true, body: b.json(b.ref('StreamPatchBody')), conflict: true },
      ),
      delete: op(
        'deleteStream',
        'Delete a stream',
        { 200: { description: 'Deleted', schema: b.ref('StreamDeleted') } },
        { id: true, conflict: true },
      ),
    };
    out[`${base}/{id}/test`] = {
      post: op(
        'testStream',
        "Send one test event now and show the receiver's reply",
        { 200: { description: 'What the receiver answered', schema: b.ref('StreamTestResult') } },
        { id: true },
      ),
    };
    out[`${base}/{id}/pause`] = {
      post: op(
        'pauseStream',
        'Pause delivery (the cursor stays)',
        { 200: stream },
        { id: true, conflict: true },
      ),
    };
    out[`${base}/{id}/resume`] = {
      post: op(
        'resumeStream',
        'Resume delivery from the cursor (also a failing or disabled stream)',
        { 200: stream },
        { id: true, conflict: true },
      ),
    };
    out[`${base}/{id}/replay`] = {
      post: op(
        'replayStream',
        'Move the cursor to a time or a stream position and deliver from there',
        { 200: stream },
        { id: true, body: b.json(b.ref('StreamReplayBody')), conflict: true },
      ),
    };
  }
  return out;
}
