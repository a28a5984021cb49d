/**
 * The delivery loop every instance runs (started with the service, like witnessing): on its own timer it
 * lists the deliverable streams and delivers each one whose lease (`stream:<id>`) it holds, at most one batch
 * in flight per stream and each stream on its own promise, so a slow receiver delays only its own stream.
 * A lease is renewed while held (at every tick, and before a send once a third of its TTL has passed), so
 * exactly one instance delivers a stream; when that instance dies another takes it over within the lease's TTL.
 */
import crypto from 'node:crypto';
import os from 'node:os';
import type { AppContext } from '../context.ts';
import { Lease } from '../integrity/lease.ts';
import { deliverableStreamIds, getStreamDoc, type StreamDoc } from '../store/stream-configs.ts';
import type { Destination } from './destination.ts';
import { openDestination, type StreamEnv } from './destinations.ts';
import { lagSeconds } from './stream-view.ts';
import { StreamWorker, type RunOutcome } from './stream-worker.ts';

/** Most streams one instance delivers at once: bounds memory (one batch each) and connections. */
const MAX_CONCURRENT = 16;

interface Held {
  lease: Lease;
  worker: StreamWorker;
  /** Not before this time (a failed stream's backoff). */
  nextAt: number;
  renewedAt: number;
  /** When its last run started (0: never here). */
  startedAt: number;
  running?: Promise<void>;
  destination?: { version: string; destination: Destination };
}

export interface SchedulerHooks {
  log(msg: string): void;
  delivered(streamId: string, count: number): void;
  failed(streamId: string, retryable: boolean): void;
  lag(streamId: string, seconds: number): void;
  /** The stream is no longer delivered here (paused, deleted, or taken by another instance). */
  dropped(streamId: string): void;
}

export class StreamScheduler {
  private readonly holder = `${os.hostname()}:${process.pid}:${crypto.randomBytes(4).toString('hex')}`;
  private readonly held = new Map<string, Held>();
  private readonly stopping = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private nextTick: (() => void) | undefined;
  /** wake() came during a tick: the next one follows at once. */
  private woken = false;

  constructor(
    private readonly ctx: AppContext,
    private readonly env: StreamEnv,
    private readonly hooks: SchedulerHooks,
  ) {}

  start(): void {
    const tick = () => {
      this.woken = false;
      this.ticking = this.tick()
        .catch((err: unknown) => this.hooks.log(`streams: tick failed: ${String(err)}`))
        .finally(() => {
          this.ticking = undefined;
          const next = this.woken ? 0 : this.env.cfg.pollMs;
          if (!this.stopping.signal.aborted) this.timer = setTimeout(tick, next).unref();
        });
    };
    this.nextTick = tick;
    this.timer = setTimeout(tick, 0).unref();
  }

  /**
   * New entries were sealed (this instance's sealer says so): look for work now rather than at the next
   * poll, so an event waits for its seal and not for the poll too. Other instances still find it by polling.
   */
  wake(): void {
    if (this.stopping.signal.aborted || !this.nextTick) return;
    if (this.ticking) {
      this.woken = true;
      return;
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(this.nextTick, 0).unref();
  }

  /** Orderly stop: sends in flight are aborted (their batches are sent again later), leases handed back. */
  async stop(): Promise<void> {
    this.halt();
    await this.ticking;
    await Promise.all([...this.held.values()].map((h) => h.running));
    await Promise.all(
      [...this.held.values()].map(async (h) => {
        await h.destination?.destination.close();
        await h.lease.release().catch(() => undefined);
      }),
    );
    this.held.clear();
  }

  /** Stops at once, leases left to expire (as a killed process would). */
  halt(): void {
    this.stopping.abort();
    clearTimeout(this.timer);
  }

  async tick(now = Date.now()): Promise<void> {
    const ids = await deliverableStreamIds(this.ctx.store);
    const wanted = new Set(ids);
    for (const [id, h] of this.held) {
      if (!wanted.has(id) && !h.running) await this.drop(id, h);
    }
    let busy = [...this.held.values()].filter((h) => h.running).length;
    // Least recently started first: with more streams than MAX_CONCURRENT, each gets its turn.
    const started = (id: string) => this.held.get(id)?.startedAt ?? 0;
    for (const id of [...ids].sort((a, b) => started(a) - started(b))) {
      if (this.stopping.signal.aborted) return;
      const h = this.held.get(id);
      if (h && (h.running || h.nextAt > now)) {
        // Sending (a send may outlast the lease) or backing off: keep the lease, so no other instance sends.
        if (now - h.renewedAt > this.env.cfg.leaseMs / 3) await this.renew(id, h, now);
        continue;
      }
      if (busy >= MAX_CONCURRENT) continue;
      const entry = h ?? this.hold(id);
      if (!(await this.renew(id, entry, now))) continue;
      busy++;
      entry.startedAt = now;
      entry.running = this.runOnce(id, entry).finally(() => (entry.running = undefined));
    }
  }

  private hold(id: string): Held {
    const lease = new Lease(this.ctx.store, `stream:${id}`, this.holder, this.env.cfg.leaseMs);
    const entry: Held = {
      lease,
      nextAt: 0,
      renewedAt: 0,
      startedAt: 0,
      worker: undefined as unknown as StreamWorker,
    };
    entry.worker = new StreamWorker(this.ctx, this.env, id, lease, {
      destination: (doc) => this.destinationOf(entry, doc),
      delivered: (doc, n) => this.hooks.delivered(doc.id, n),
      failed: (doc, r) => this.hooks.failed(doc.id, r.retryable),
    });
    this.held.set(id, entry);
    return entry;
  }

  private async renew(id: string, h: Held, now: number): Promise<boolean> {
    const ok = await h.lease.acquire(now).catch(() => false);
    if (ok) h.renewedAt = now;
    else if (!h.running) {
      this.held.delete(id); // another instance delivers it
      this.hooks.dropped(id);
    }
    return ok;
  }

  private async drop(id: string, h: Held): Promise<void> {
    this.held.delete(id);
    this.hooks.dropped(id);
    await h.destination?.destination.close();
    await h.lease.release().catch(() => undefined);
  }

  /** The destination for the stream's current configuration; rebuilt when it changed. */
  private destinationOf(h: Held, doc: StreamDoc): Destination {
    if (h.destination?.version === doc.updatedAt) return h.destination.destination;
    void h.destination?.destination.close();
    const destination = openDestination(this.env, doc);
    h.destination = { version: doc.updatedAt, destination };
    return destination;
  }

  private async runOnce(id: string, h: Held): Promise<void> {
    let outcome: RunOutcome;
    try {
      outcome = await h.worker.run(this.stopping.signal);
    } catch (err) {
      // OpenSearch unreachable or a bug: try again after a pause, the cursor has not moved.
      this.hooks.log(`streams: delivering ${id} failed: ${String(err)}`);
      outcome = { kind: 'failed', retryInMs: Math.min(this.env.cfg.maxBackoffMs, 5000) };
    }
    if (outcome.kind === 'failed') h.nextAt = Date.now() + outcome.retryInMs;
    const doc = (await getStreamDoc(this.ctx.store, id).catch(() => undefined))?.doc;
    if (doc) this.hooks.lag(id, await lagSeconds(this.ctx.store, doc).catch(() => 0));
  }
}
