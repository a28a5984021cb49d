/**
 * Delivering one stream while this instance holds its lease: read from the cursor, send one batch, and only
 * once the receiver confirmed it move the cursor past it (a conditional write that is dropped when the
 * cursor moved meanwhile, e.g. by a replay). One batch in flight per stream; while it is, the next one is
 * read (a page depends only on its position and filter), so a backlog's reads and sends overlap. A failure
 * ends the run with the time of the next attempt.
 */
import crypto from 'node:crypto';
import canonicalize from 'canonicalize';
import type { AppContext } from '../context.ts';
import { recordDirectoryEvents } from '../directory/audit.ts';
import type { Lease } from '../integrity/lease.ts';
import { getStreamDoc, type StreamDoc } from '../store/stream-configs.ts';
import { INTERNAL } from '../store/names.ts';
import { readStream, type StreamPage, type StreamPosition } from '../stream/read.ts';
import type { Destination, SendResult } from './destination.ts';
import type { StreamEnv } from './destinations.ts';
import { mutateStream } from './stream-docs.ts';

/** A stream whose retryable failures last this long is shown as `failing`. */
const FAILING_AFTER_MS = 60_000;
const BASE_BACKOFF_MS = 1000;
export const SERVICE_ACTOR = { actorName: 'Audit log service' };

/**
 * The batch id: the same for the same stream, filter and first position (and so the same entries: a batch
 * never reaches past its seal), so every retry of a batch carries it. A replay starts new ids: a receiver
 * that drops batches it has seen does not drop the replayed ones.
 */
export const batchId = (doc: Pick<StreamDoc, 'id' | 'filter' | 'replayedAt'>, from: StreamPosition) =>
  crypto
    .createHash('sha256')
    .update(`${doc.id}|${doc.replayedAt ?? ''}|${canonicalize(doc.filter)}|${from.seq}|${from.leaf}`)
    .digest('hex')
    .slice(0, 32);

const samePosition = (a: StreamPosition, b: StreamPosition) => a.seq === b.seq && a.leaf === b.leaf;

/** Exponential, capped, with full jitter over its upper half; at least what the receiver asked for. */
export function backoffMs(failures: number, maxMs: number, retryAfterMs?: number): number {
  const exp = Math.min(maxMs, BASE_BACKOFF_MS * 2 ** Math.min(failures - 1, 30));
  const jittered = exp / 2 + Math.random() * (exp / 2);
  return retryAfterMs !== undefined ? Math.max(retryAfterMs, Math.min(jittered, 1000)) : jittered;
}

/**
 * Runs `send` with a signal that aborts on `stop` or after `ms`. A plain timer, not AbortSignal.timeout
 * combined with AbortSignal.any: Node 20 may collect such a combined signal, and then it never fires.
 */
async function withDeadline<T>(stop: AbortSignal, ms: number, send: (signal: AbortSignal) => Promise<T>) {
  const ctl = new AbortController();
  const abort = () => ctl.abort(new DOMException('The send timed out', 'TimeoutError'));
  const timer = setTimeout(abort, ms);
  stop.addEventListener('abort', abort, { once: true });
  try {
    return await send(ctl.signal);
  } finally {
    clearTimeout(timer);
    stop.removeEventListener('abort', abort);
  }
}

export interface WorkerHooks {
  /** The destination for this version of the stream's configuration (cached by the caller). */
  destination(doc: StreamDoc): Destination;
  delivered(doc: StreamDoc, count: number): void;
  failed(doc: StreamDoc, result: Extract<SendResult, { ok: false }>): void;
}

export type RunOutcome = { kind: 'idle' } | { kind: 'failed'; retryInMs: number } | { kind: 'stopped' };

/** A page being read ahead, for the position, filter and size of `key`. */
interface Ahead {
  key: string;
  page: Promise<StreamPage>;
}

const pageKey = (doc: Pick<StreamDoc, 'filter'>, from: StreamPosition, limit: number) =>
  `${from.seq}|${from.leaf}|${limit}|${canonicalize(doc.filter)}`;

export class StreamWorker {
  failures = 0;
  /** When this worker last renewed its lease (0: not yet). */
  private leaseRenewedAt = 0;

  constructor(
    private readonly ctx: AppContext,
    private readonly env: StreamEnv,
    private readonly id: string,
    private readonly lease: Lease,
    private readonly hooks: WorkerHooks,
  ) {}

  /** Delivers until caught up, a failure, the stream no longer deliverable, the lease lost, or `stop`. */
  async run(stop: AbortSignal): Promise<RunOutcome> {
    let ahead: Ahead | undefined;
    // The stream as the last cursor write stored it: as fresh as reading it again would be.
    let stored: StreamDoc | undefined;
    try {
      while (!stop.aborted) {
        const doc = stored ?? (await getStreamDoc(this.ctx.store, this.id))?.doc;
        stored = undefined;
        if (!doc || (doc.status !== 'active' && doc.status !== 'failing')) return { kind: 'stopped' };
        const destination = this.hooks.destination(doc);
        const from = doc.cursor;
        const key = pageKey(doc, from, destination.maxBatch);
        // The page read ahead is used only when it was read for exactly this position, filter and size.
        const page = ahead?.key === key ? await ahead.page : await this.read(doc, from, destination.maxBatch);
        ahead = undefined;
        if (page.entries.length === 0) {
          // Only filtered-out entries: nothing to send, but the cursor moves past them.
          if (!samePosition(page.next, from)) stored = await this.advance(from, page.next, 0);
          if (page.caughtUp) return { kind: 'idle' };
          continue;
        }
        if (!(await this.holdLease())) return { kind: 'stopped' };
        if (!page.caughtUp) ahead = this.readAhead(doc, page.next, destination.maxBatch);
        const result = await withDeadline(stop, this.env.cfg.sendTimeoutMs, (signal) =>
          destination.send({ id: batchId(doc, from), orgId: doc.orgId, entries: page.entries }, signal),
        );
        if (!result.ok) {
          if (stop.aborted) return { kind: 'stopped' };
          return await this.fail(doc, result);
        }
        this.failures = 0;
        stored = await this.advance(from, page.next, page.entries.length);
        if (stored) this.hooks.delivered(stored, page.entries.length);
        if (page.caughtUp) return { kind: 'idle' };
      }
      return { kind: 'stopped' };
    } finally {
      // A page read ahead and not used: its read is let finish (its failure is of no interest).
      await ahead?.page.catch(() => undefined);
    }
  }

  private read(doc: StreamDoc, from: StreamPosition, limit: number): Promise<StreamPage> {
    return readStream(
      this.ctx.store,
      { orgId: doc.orgId },
      {
        ...(doc.filter.actions ? { actions: doc.filter.actions } : {}),
        ...(doc.filter.workspaceIds ? { workspaceIds: doc.filter.workspaceIds } : {}),
      },
      from,
      limit,
      undefined,
      true,
    );
  }

  /** Starts reading the page at `from`; a failure surfaces only if the page is used. */
  private readAhead(doc: StreamDoc, from: StreamPosition, limit: number): Ahead {
    const page = this.read(doc, from, limit);
    page.catch(() => undefined);
    return { key: pageKey(doc, from, limit), page };
  }

  /**
   * Renews the lease before a send unless it was renewed within a third of its TTL: held that recently, it
   * is held for two thirds of the TTL more, as after a renewal just before the send.
   */
  private async holdLease(): Promise<boolean> {
    const now = Date.now();
    if (now - this.leaseRenewedAt < this.env.cfg.leaseMs / 3) return true;
    if (!(await this.lease.acquire(now))) return false;
    this.leaseRenewedAt = now;
    return true;
  }

  /** Moves the cursor from `from` to `next` (only if it is still at `from`) and records the delivery. */
  private async advance(from: StreamPosition, next: StreamPosition, count: number) {
    const now = new Date().toISOString();
    return mutateStream(this.ctx.store, this.id, (d) => {
      if (!samePosition(d.cursor, from)) return undefined;
      const recovered = count > 0 && d.status === 'failing';
      return {
        ...d,
        cursor: next,
        ...(count > 0
          ? {
              delivered: d.delivered + count,
              lastDeliveredAt: now,
              lastError: undefined,
              failingSince: undefined,
            }
          : {}),
        ...(recovered ? { status: 'active' as const } : {}),
      };
    });
  }

  private async fail(doc: StreamDoc, result: Extract<SendResult, { ok: false }>): Promise<RunOutcome> {
    this.failures++;
    this.hooks.failed(doc, result);
    const now = Date.now();
    const since = doc.failingSince ? Date.parse(doc.failingSince) : now;
    const disable = now - since >= this.env.cfg.disableAfterMs;
    if (disable) {
      await recordDirectoryEvents(
        this.ctx,
        doc.orgId,
        {
          index: INTERNAL.streams,
          id: doc.id,
          prev: undefined,
          change: { disabledAfterFailingSince: doc.failingSince },
        },
        [
          {
            action: 'audit_stream.disabled',
            resourceId: doc.id,
            resourceName: doc.name,
            metadata: { type: doc.type, failingSince: doc.failingSince ?? null, lastError: result.error },
          },
        ],
        SERVICE_ACTOR,
      );
    }
    const failing = !result.retryable || now - since >= FAILING_AFTER_MS;
    await mutateStream(this.ctx.store, this.id, (d) => {
      if (d.status !== 'active' && d.status !== 'failing') return undefined;
      return {
        ...d,
        lastError: result.error,
        failingSince: d.failingSince ?? new Date(now).toISOString(),
        status: disable ? 'disabled' : failing ? 'failing' : d.status,
      };
    });
    return {
      kind: 'failed',
      retryInMs: backoffMs(this.failures, this.env.cfg.maxBackoffMs, result.retryAfterMs),
    };
  }
}
