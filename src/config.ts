/**
 * Configuration: the one place that reads `process.env`. Everything else receives a `Config`.
 * Each variable is validated here so a typo fails at start-up with a message naming it.
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  bool,
  ConfigError,
  num,
  openSearchAccess,
  str,
  type Env,
  type OpenSearchAccess,
} from './env-values.ts';

export { ConfigError, parseNodes, type OpenSearchAccess } from './env-values.ts';

/** The checkout: the parent of this module's folder, whether run as src/config.ts or bundled in dist/start.mjs. */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface EngineConfig {
  /** Pinned OpenSearch version fetched from Maven Central. */
  version: string;
  /** Where downloads, the unpacked engine and instance data live (outside git). */
  dir: string;
  /** Explicit JDK for the engine, else JAVA_HOME, else the newest suitable one under /usr/lib/jvm. */
  javaHome?: string;
  heapMin: string;
  heapMax: string;
  /** Preferred HTTP port of an instance's first start (a free one when busy); later starts keep theirs. */
  port: number;
  /** ISM job interval in minutes (the plugin's minimum is 1). */
  ismJobIntervalMinutes: number;
  ismJitter: number;
}

export interface Config {
  port: number;
  /**
   * Address the HTTP server binds: loopback by default in the local mode (operator API and a generated token
   * on), every interface (undefined) with OPENSEARCH_URL, as a container or cluster deployment needs.
   */
  host?: string;
  /** An existing cluster (one URL or a comma-separated list); undefined means "start the local engine". */
  opensearchUrl?: string;
  opensearch: OpenSearchAccess;
  /** Shared store of the per-key rate limits (several instances); undefined: each instance counts alone. */
  redisUrl?: string;
  auditLogsEnabled: boolean;
  pageEnabled: boolean;
  billingEnabled: boolean;
  adminToken?: string;
  retentionDays: number;
  sealAfterDays: number;
  /** Requests per minute per API key. */
  rateLimitPerMinute: number;
  /** Failed authentications per minute per client address before it gets 429 without a lookup. */
  authFailuresPerMinute: number;
  /** Secrets and keys generated at first start are persisted here (unless given explicitly). */
  stateDir: string;
  cursorSecret?: string;
  /** PKCS#8 PEM of the Ed25519 checkpoint signing key. */
  signingKeyPem?: string;
  /** The prefix of every org log's name: checkpoints say `<logOrigin>/<orgId>` on their origin line. */
  logOrigin: string;
  /** Witnesses that cosign new checkpoints (c2sp.org/tlog-witness), each by its URL and verifier key. */
  witnesses: { url: string; verifierKey: string }[];
  /** Most often an org's newest checkpoint is sent to the witnesses. */
  witnessIntervalMs: number;
  /** Cosignatures the served checkpoint should carry: the newest checkpoint with this many is served. */
  witnessQuorum: number;
  /** Longest time an acknowledged event waits before it is sealed. */
  sealIntervalMs: number;
  /**
   * Sealing on (default): the write path computes each event's leaf and the service runs the sealer. Off: no
   * sealer, no leaves at ingest; turned on again, the sealer catches up, reading those events.
   */
  sealing: boolean;
  /** Shards and replicas of the audit indices. */
  indexShards: number;
  indexReplicas: number;
  /** How often the in-service lifecycle sweep runs (0 = never). */
  lifecycleSweepMs: number;
  /** Longest time an API request waits for OpenSearch before it is answered 503 + Retry-After. */
  requestTimeoutMs: number;
  /** Most ingest requests written at once (one key: past half only with room left); more: 503. */
  ingestConcurrency: number;
  /** Above this resident memory (MB), ingest requests are admitted one at a time. */
  ingestMemoryMb: number;
  /** Longest an ingest body may take to arrive; a slower one is answered 408 and its connection closed. */
  ingestBodyTimeoutMs: number;
  /** Most bytes the ingest bodies being read may hold at once (one key: past half only with room left); more: 503. */
  ingestReadBufferBytes: number;
  /** Most exports, and stream pages, answered at once (one key: past half only with room left); more: 503. */
  exportConcurrency: number;
  streamConcurrency: number;
  /** pino level of the service's JSON logs (`silent` turns them off). */
  logLevel: LogLevel;
  engine: EngineConfig;
  streams: StreamsConfig;
}

/** Push streams: what each instance delivers, and how. */
export interface StreamsConfig {
  /** Loopback, private and link-local receivers (and plain http://) allowed; cloud metadata never. */
  allowPrivate: boolean;
  /** A stream failing this long is disabled. */
  disableAfterMs: number;
  /** AES-256-GCM key (32 bytes, base64) for the streams' secret settings; else generated into the state dir. */
  key?: string;
  /** How often each instance looks for streams to deliver. */
  pollMs: number;
  /** A stream's delivery lease: another instance takes a stream over within this after its holder died. */
  leaseMs: number;
  /** Longest one send may take before it counts as failed. */
  sendTimeoutMs: number;
  /** Longest wait between retries of a failing stream. */
  maxBackoffMs: number;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

function logLevel(env: Env): LogLevel {
  const v = str(env, 'LOG_LEVEL') ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(v)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got "${v}")`);
  }
  return v as LogLevel;
}

export const DEFAULT_LOG_ORIGIN = 'localhost/audit-logs';

/** A checkpoint origin and key name: no spaces, no "+" (c2sp.org/signed-note). */
function logOrigin(env: Env): string {
  const v = str(env, 'AUDIT_LOG_ORIGIN') ?? DEFAULT_LOG_ORIGIN;
  if (/[\s+]/u.test(v) || v.endsWith('/'))
    throw new ConfigError(`AUDIT_LOG_ORIGIN must hold no spaces or "+" and not end in "/" (got "${v}")`);
  return v;
}

/** AUDIT_WITNESSES: comma-separated `<url>=<witness verifier key>`. */
function witnesses(env: Env): { url: string; verifierKey: string }[] {
  const v = str(env, 'AUDIT_WITNESSES');
  if (!v) return [];
  return v.split(',').map((item) => parseWitnessSpec(item, 'AUDIT_WITNESSES'));
}

/** AUDIT_WITNESS_QUORUM: at most the number of witnesses (a quorum that can never be met is a mistake). */
function witnessQuorum(env: Env): number {
  const n = witnesses(env).length;
  const q = num(env, 'AUDIT_WITNESS_QUORUM', 0, 0, 64);
  if (q > n)
    throw new ConfigError(`AUDIT_WITNESS_QUORUM is ${q}, but AUDIT_WITNESSES names ${n} witness(es)`);
  return q;
}

/** One `<url>=<witness verifier key>` (of AUDIT_WITNESSES, or a script's --witness named by `source`). */
export function parseWitnessSpec(item: string, source: string): { url: string; verifierKey: string } {
  const at = item.indexOf('=');
  const url = item.slice(0, at).trim();
  const verifierKey = item.slice(at + 1).trim();
  if (
    at <= 0 ||
    !/^https?:\/\/[^\s]+$/.test(url) ||
    !/^[^+\s]+\+[0-9a-f]{8}\+[A-Za-z0-9+/]+=*$/.test(verifierKey)
  )
    throw new ConfigError(`${source} wants <url>=<witness verifier key>, comma-separated (got "${item}")`);
  return { url, verifierKey };
}

function heap(env: Env): { heapMin: string; heapMax: string } {
  const v = str(env, 'AUDIT_ENGINE_HEAP') ?? '512m:1g';
  const m = /^(\d+[mg])(?::(\d+[mg]))?$/.exec(v);
  if (!m) throw new ConfigError(`AUDIT_ENGINE_HEAP must look like "512m:1g" or "1g" (got "${v}")`);
  return { heapMin: m[1]!, heapMax: m[2] ?? m[1]! };
}

function defaultEngineDir(env: Env): string {
  // Root's home is closed to the unprivileged user the engine runs as, so root keeps it under /var/cache.
  if (process.getuid?.() === 0) return '/var/cache/audit-log-service';
  const base = str(env, 'XDG_CACHE_HOME') ?? path.join(os.homedir(), '.cache');
  return path.join(base, 'audit-log-service');
}

function streamsConfig(env: Env): StreamsConfig {
  const key = str(env, 'AUDIT_STREAM_KEY');
  if (key !== undefined && Buffer.from(key, 'base64').length !== 32) {
    throw new ConfigError('AUDIT_STREAM_KEY must be 32 bytes in base64 (openssl rand -base64 32)');
  }
  return {
    allowPrivate: bool(env, 'AUDIT_STREAM_ALLOW_PRIVATE'),
    disableAfterMs: num(env, 'AUDIT_STREAM_DISABLE_AFTER_HOURS', 72, 0.001, 8760, false) * 3_600_000,
    key,
    pollMs: num(env, 'AUDIT_STREAM_POLL_SECONDS', 2, 0.05, 3600, false) * 1000,
    leaseMs: num(env, 'AUDIT_STREAM_LEASE_SECONDS', 15, 1, 3600, false) * 1000,
    sendTimeoutMs: num(env, 'AUDIT_STREAM_SEND_TIMEOUT_SECONDS', 30, 0.1, 600, false) * 1000,
    maxBackoffMs: num(env, 'AUDIT_STREAM_MAX_BACKOFF_SECONDS', 300, 0.1, 86400, false) * 1000,
  };
}

export function loadConfig(env: Env = process.env): Config {
  const opensearch = openSearchAccess(env);
  const opensearchUrl = opensearch.nodes.length > 0 ? str(env, 'OPENSEARCH_URL') : undefined;
  const redisUrl = str(env, 'REDIS_URL');
  if (redisUrl && !/^rediss?:\/\/[^/]+/.test(redisUrl)) {
    throw new ConfigError('REDIS_URL must be a redis:// or rediss:// URL');
  }
  const retentionDays = num(env, 'AUDIT_RETENTION_DAYS', 400, 1, 36500);
  const sealAfterDays = num(env, 'AUDIT_SEAL_AFTER_DAYS', 2, 1, 36500);
  if (sealAfterDays >= retentionDays) {
    throw new ConfigError('AUDIT_SEAL_AFTER_DAYS must be smaller than AUDIT_RETENTION_DAYS');
  }
  const host = str(env, 'HOST') ?? (opensearchUrl ? undefined : '127.0.0.1');
  if (host !== undefined && !/^[A-Za-z0-9.:-]+$/.test(host)) {
    throw new ConfigError(
      `HOST must be an IP address or a host name, e.g. 127.0.0.1 or 0.0.0.0 (got "${host}")`,
    );
  }
  return {
    port: num(env, 'PORT', 3000, 0, 65535),
    host,
    opensearchUrl,
    opensearch,
    redisUrl,
    auditLogsEnabled: bool(env, 'AUDIT_LOGS_ENABLED'),
    pageEnabled: bool(env, 'NEXT_PUBLIC_AUDIT_LOGS_ENABLED'),
    billingEnabled: bool(env, 'BILLING_ENABLED'),
    adminToken: str(env, 'AUDIT_ADMIN_TOKEN'),
    retentionDays,
    sealAfterDays,
    rateLimitPerMinute: num(env, 'AUDIT_RATE_LIMIT_PER_MINUTE', 600, 1, 1_000_000),
    authFailuresPerMinute: num(env, 'AUDIT_AUTH_FAILURES_PER_MINUTE', 30, 1, 1_000_000),
    stateDir: path.resolve(str(env, 'AUDIT_STATE_DIR') ?? path.join(PROJECT_ROOT, '.cache', 'state')),
    cursorSecret: str(env, 'AUDIT_CURSOR_SECRET'),
    signingKeyPem: str(env, 'AUDIT_SIGNING_KEY'),
    logOrigin: logOrigin(env),
    witnesses: witnesses(env),
    witnessQuorum: witnessQuorum(env),
    witnessIntervalMs: num(env, 'AUDIT_WITNESS_INTERVAL_SECONDS', 60, 1, 86400) * 1000,
    sealIntervalMs: num(env, 'AUDIT_SEAL_INTERVAL_SECONDS', 5, 1, 3600) * 1000,
    sealing: bool(env, 'AUDIT_SEALING', true),
    indexShards: num(env, 'AUDIT_INDEX_SHARDS', 1, 1, 64),
    indexReplicas: num(env, 'AUDIT_INDEX_REPLICAS', 0, 0, 8),
    lifecycleSweepMs: num(env, 'AUDIT_LIFECYCLE_SWEEP_SECONDS', 3600, 0, 86400) * 1000,
    requestTimeoutMs: num(env, 'AUDIT_REQUEST_TIMEOUT_SECONDS', 10, 1, 300) * 1000,
    ingestConcurrency: num(env, 'AUDIT_INGEST_CONCURRENCY', 4, 1, 1000),
    ingestMemoryMb: num(env, 'AUDIT_INGEST_MEMORY_MB', 180, 64, 1_000_000),
    ingestBodyTimeoutMs: num(env, 'AUDIT_INGEST_BODY_TIMEOUT_SECONDS', 5, 1, 300) * 1000,
    ingestReadBufferBytes: num(env, 'AUDIT_INGEST_READ_BUFFER_MB', 32, 1, 1_000_000) * 1024 * 1024,
    exportConcurrency: num(env, 'AUDIT_EXPORT_CONCURRENCY', 4, 1, 1000),
    streamConcurrency: num(env, 'AUDIT_STREAM_CONCURRENCY', 8, 1, 1000),
    logLevel: logLevel(env),
    engine: {
      version: str(env, 'AUDIT_ENGINE_VERSION') ?? '3.8.0',
      dir: path.resolve(str(env, 'AUDIT_ENGINE_DIR') ?? defaultEngineDir(env)),
      javaHome: str(env, 'OPENSEARCH_JAVA_HOME') ?? str(env, 'JAVA_HOME'),
      ...heap(env),
      port: num(env, 'AUDIT_ENGINE_PORT', 9200, 1, 65535),
      ismJobIntervalMinutes: num(env, 'AUDIT_ENGINE_ISM_INTERVAL_MINUTES', 5, 1, 1440),
      ismJitter: num(env, 'AUDIT_ENGINE_ISM_JITTER', 0.6, 0, 1, false),
    },
    streams: streamsConfig(env),
  };
}
