/** Runs the service: applies templates, serves HTTP, and runs the background jobs. */
import type { AddressInfo } from 'node:net';
import { buildApp } from './app.ts';
import type { Config } from './config.ts';
import { Sealer, sealerOptions, type RoundResult } from './integrity/sealer/sealer.ts';
import { Witnessing } from './integrity/witnessing.ts';
import { KeyringSource } from './integrity/keyring.ts';
import { servedNote } from './integrity/org-tree.ts';
import { Written } from './integrity/written.ts';
import { startLifecycleSweep } from './lifecycle/sweep.ts';
import { streamEnv } from './delivery/destinations.ts';
import { StreamScheduler } from './delivery/stream-scheduler.ts';
import { createLogger, type Logger } from './observe/log.ts';
import { Metrics } from './observe/metrics.ts';
import { sharedRateLimitStore, type SharedRateLimitStore } from './http/rate-limit.ts';
import type { Change } from './store/bootstrap.ts';
import type { Store } from './store/client.ts';
import { openStore } from './store/open.ts';

export interface RunningService {
  url: string;
  store: Store;
  changes: Change[];
  /** Absent when AUDIT_SEALING=false. */
  sealer?: Sealer;
  log: Logger;
  metrics: Metrics;
  /**
   * Orderly stop: takes no new connections, lets the requests in flight and the sealer's current round
   * finish (requests still open after `drainMs` are cut), then closes the store.
   */
  close(drainMs?: number): Promise<void>;
  /** Stops abruptly, as a killed process would: no handover of the sealer lease, requests in flight cut. */
  kill(): Promise<void>;
}

export interface ServiceOptions {
  /** Default: JSON lines on stdout at cfg.logLevel. */
  log?: Logger;
}

/** The sealer, counted: seals written, rounds, and the lag of the leading instance. */
class MeteredSealer extends Sealer {
  metrics?: Metrics;
  /** Called after a round that wrote seals. */
  onSealed?: () => void;

  override async round(now = Date.now()): Promise<RoundResult> {
    const m = this.metrics;
    try {
      const result = await super.round(now);
      if (result.sealed.length > 0) this.onSealed?.();
      if (m) {
        m.sealerRounds.inc({ result: result.leader ? 'leader' : 'follower' });
        m.sealsWritten.inc(result.sealed.length);
        m.eventsSealed.inc(result.sealed.reduce((n, s) => n + s.count, 0));
        m.sealedUpTo = result.leader ? now - this.opts.safetyMarginMs : undefined;
      }
      return result;
    } catch (err) {
      m?.sealerRounds.inc({ result: 'failed' });
      throw err;
    }
  }
}

/** How to reach a server bound to `host` from this machine. */
function urlHost(host: string | undefined): string {
  if (host === undefined || host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

export async function startService(
  cfg: Config & { opensearchUrl: string },
  opts: ServiceOptions = {},
): Promise<RunningService> {
  const log = opts.log ?? createLogger(cfg.logLevel);
  const metrics = new Metrics();
  const { store, changes } = await openStore(cfg, cfg.opensearchUrl, (s) =>
    s.on('response', (err) => {
      if (err) metrics.opensearchError(err);
    }),
  );
  let shared: SharedRateLimitStore | undefined;
  try {
    shared = cfg.redisUrl ? await sharedRateLimitStore(cfg.redisUrl) : undefined;
  } catch (err) {
    await store.close();
    throw err;
  }
  // What this instance's write path stores, handed to its own sealer (written.ts).
  const written = cfg.sealing ? new Written() : undefined;
  const app = buildApp({ cfg, store, written, log, metrics, rateLimitStore: shared?.store });
  const server = cfg.host === undefined ? app.listen(cfg.port) : app.listen(cfg.port, cfg.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  const sealerLog = log.child({ job: 'sealer' });
  const keys = new KeyringSource(cfg);
  const sealer = cfg.sealing
    ? new MeteredSealer(
        { store, written },
        keys,
        sealerOptions(cfg.sealIntervalMs, { logOrigin: cfg.logOrigin }),
        (m) => sealerLog.warn(m),
      )
    : undefined;
  if (sealer) {
    sealer.metrics = metrics;
    sealer.start();
  } else log.warn('AUDIT_SEALING=false: new events are not sealed until a service runs with sealing on');
  const witnessLog = log.child({ job: 'witnessing' });
  const witnessing =
    cfg.sealing && cfg.witnesses.length > 0
      ? new Witnessing(
          store,
          (head) => servedNote(head, keys, cfg.logOrigin),
          cfg.witnesses,
          cfg.witnessIntervalMs,
          (m) => witnessLog.warn(m),
          (witness, outcome) => metrics.witnessSubmissions.inc({ witness, outcome }),
        )
      : undefined;
  witnessing?.start();
  const streamLog = log.child({ job: 'streams' });
  const streams = new StreamScheduler({ cfg, store, written, log, metrics }, streamEnv(cfg), {
    log: (m) => streamLog.warn(m),
    delivered: (stream, n) => metrics.streamDelivered.inc({ stream }, n),
    failed: (stream, retryable) => metrics.streamFailures.inc({ stream, retryable: String(retryable) }),
    lag: (stream, seconds) => metrics.streamLag.set({ stream }, seconds),
    dropped: (stream) => metrics.streamLag.remove({ stream }),
  });
  streams.start();
  // What this instance seals is delivered without waiting for the streams' next poll.
  if (sealer) sealer.onSealed = () => streams.wake();
  const sweep =
    cfg.lifecycleSweepMs > 0
      ? startLifecycleSweep(store, cfg, log.child({ job: 'lifecycle' }), (a) =>
          metrics.lifecycleActions.inc({ action: a.action, result: a.error ? 'failed' : 'ok' }),
        )
      : undefined;

  /** Resolves when every connection has closed; idle keep-alive ones are closed as they become idle. */
  const drain = (drainMs: number) =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
      const idle = setInterval(() => server.closeIdleConnections(), 100);
      const cut = setTimeout(() => server.closeAllConnections(), drainMs);
      server.once('close', () => {
        clearInterval(idle);
        clearTimeout(cut);
      });
    });

  return {
    url: `http://${urlHost(cfg.host)}:${port}`,
    store,
    changes,
    sealer,
    log,
    metrics,
    async close(drainMs = 7000) {
      // HTTP first: no new connections from here on; the jobs finish their current run meanwhile.
      await Promise.all([drain(drainMs), sweep?.stop(), sealer?.stop(), witnessing?.stop(), streams.stop()]);
      await shared?.close();
      await store.close();
    },
    async kill() {
      void sweep?.stop();
      sealer?.halt();
      void witnessing?.stop();
      streams.halt();
      server.close();
      server.closeAllConnections();
      await shared?.close();
      await store.close();
    },
  };
}
