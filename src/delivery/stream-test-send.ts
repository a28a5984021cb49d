/**
 * `POST …/streams/:id/test`: one made-up entry sent to the receiver now, outside the stream (its cursor does
 * not move), and the receiver's reply shown, so an admin sees at once whether the settings work.
 */
import crypto from 'node:crypto';
import { recordDirectoryEvents } from '../directory/audit.ts';
import type { AuditEntry } from '../events/schema.ts';
import { INTERNAL } from '../store/names.ts';
import { openDestination } from './destinations.ts';
import type { StreamCall } from './stream-admin.ts';
import { requireStream } from './stream-docs.ts';

export interface TestResult {
  ok: boolean;
  status: number | null;
  reply: string | null;
  error: string | null;
}

export async function sendTestEvent(call: StreamCall, id: string): Promise<TestResult> {
  const { doc } = await requireStream(call.ctx.store, call.orgId, id);
  const destination = openDestination(call.env, doc);
  const testId = `test_${crypto.randomBytes(8).toString('hex')}`;
  const entry: AuditEntry = {
    id: testId,
    action: 'audit_stream.tested',
    resourceType: 'audit_stream',
    resourceId: doc.id,
    resourceName: doc.name,
    description: `Test event of stream "${doc.name}"`,
    actorId: call.actor.actorId ?? null,
    actorName: call.actor.actorName,
    actorEmail: call.actor.actorEmail ?? null,
    workspaceId: null,
    metadata: { test: true },
    createdAt: new Date().toISOString(),
  };
  let result;
  try {
    result = await destination.send(
      { id: testId, orgId: doc.orgId, entries: [entry] },
      // Answered within the request's own deadline, with a second to spare.
      AbortSignal.timeout(
        Math.max(500, Math.min(call.env.cfg.sendTimeoutMs, call.ctx.cfg.requestTimeoutMs - 1000)),
      ),
    );
  } finally {
    await destination.close();
  }
  const answer: TestResult = result.ok
    ? { ok: true, status: null, reply: result.reply ?? null, error: null }
    : { ok: false, status: result.status ?? null, reply: null, error: result.error };
  await recordDirectoryEvents(
    call.ctx,
    doc.orgId,
    { index: INTERNAL.streams, id: doc.id, prev: undefined, change: { test: testId } },
    [
      {
        action: 'audit_stream.tested',
        resourceId: doc.id,
        resourceName: doc.name,
        metadata: { type: doc.type, ok: answer.ok, status: answer.status },
      },
    ],
    call.actor,
  );
  return answer;
}
