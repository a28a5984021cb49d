/**
 * Prometheus metrics (prom-client), served at GET /metrics to the operator token. Each app instance has its
 * own registry, so several services in one process (tests) count separately.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class Metrics {
  readonly registry = new Registry();

  readonly httpDuration = new Histogram({
    name: 'audit_http_request_duration_seconds',
    help: 'HTTP request latency by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly ingestEvents = new Counter({
    name: 'audit_ingest_events_total',
    help: 'Events ingested (HTTP, directory changes, seeding), by outcome (created, duplicate, rejected)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly rateLimited = new Counter({
    name: 'audit_rate_limited_requests_total',
    help: 'Requests refused with 429 rate_limited',
    registers: [this.registry],
  });

  readonly opensearchErrors = new Counter({
    name: 'audit_opensearch_errors_total',
    help: 'Failed OpenSearch requests by kind (connection, timeout, or the error type OpenSearch answered)',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly sealsWritten = new Counter({
    name: 'audit_seals_written_total',
    help: 'Seals (signed checkpoints) this instance wrote',
    registers: [this.registry],
  });

  readonly witnessSubmissions = new Counter({
    name: 'audit_witness_submissions_total',
    help: 'Checkpoints sent to a witness, by witness URL and outcome (cosigned, conflict, refused, unreachable)',
    labelNames: ['witness', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly eventsSealed = new Counter({
    name: 'audit_events_sealed_total',
    help: 'Events covered by the seals this instance wrote',
    registers: [this.registry],
  });

  readonly streamDelivered = new Counter({
    name: 'audit_stream_delivered_total',
    help: 'Entries a push stream delivered (the receiver confirmed them), by stream id',
    labelNames: ['stream'] as const,
    registers: [this.registry],
  });

  readonly streamFailures = new Counter({
    name: 'audit_stream_failures_total',
    help: 'Failed sends of a push stream, by stream id and whether they are retried',
    labelNames: ['stream', 'retryable'] as const,
    registers: [this.registry],
  });

  readonly streamLag = new Gauge({
    name: 'audit_stream_lag_seconds',
    help: "Age of the seal holding a push stream's next undelivered entry (0: caught up), by stream id",
    labelNames: ['stream'] as const,
    registers: [this.registry],
  });

  /**
   * The cutoff (ms) of the last round this instance finished as the leading sealer; undefined while it does not
   * lead. Read at scrape time, so the lag keeps growing while rounds stall.
   */
  sealedUpTo: number | undefined;

  readonly sealerLag = new Gauge({
    name: 'audit_sealer_lag_seconds',
    help:
      'On the leading sealer: how long ago the acceptance time lies that its last finished round sealed up to ' +
      '(older events are sealed or reported as held); grows while sealing stalls. 0 where not leading: ' +
      'aggregate with max().',
    registers: [this.registry],
    collect: () => {
      if (this.sealedUpTo === undefined) this.sealerLag.set(0);
      else this.sealerLag.set(Math.max(0, (Date.now() - this.sealedUpTo) / 1000));
    },
  });

  readonly sealerRounds = new Counter({
    name: 'audit_sealer_rounds_total',
    help: 'Sealer rounds by result (leader, follower, failed)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly lifecycleActions = new Counter({
    name: 'audit_lifecycle_actions_total',
    help: 'Lifecycle sweep actions by action (sealed, deleted, consolidated) and result (ok, failed)',
    labelNames: ['action', 'result'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /**
   * Counts a failed OpenSearch request (the client's `response` event), by a bounded kind. 404 and 409 are
   * answers the service asks for (a missing document, a `create` of an existing id), not failures.
   */
  opensearchError(err: unknown): void {
    const status = (err as { statusCode?: number }).statusCode;
    if (status === 404 || status === 409) return;
    this.opensearchErrors.inc({ kind: errorKind(err) });
  }
}

function errorKind(err: unknown): string {
  const e = err as { name?: string; meta?: { body?: { error?: { type?: unknown } } } };
  const type = e.meta?.body?.error?.type;
  // OpenSearch error types are a fixed vocabulary (snake_case); anything else is reduced to the class name.
  if (typeof type === 'string' && /^[a-z_]{1,80}$/.test(type)) return type;
  return /^[A-Za-z]{1,60}$/.test(e.name ?? '') ? e.name! : 'unknown';
}
