/**
 * Configuration: the one place that reads `process.env`. Everything else receives a `Config`.
 * Each variable is validated here so a typo fails at start-up with a message naming it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bool, ConfigError, num, str, type Env } from './env-values.ts';

export { ConfigError } from './env-values.ts';

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

/** How to reach and authenticate to OpenSearch, besides the node URLs (see docs/deploying.md). */
export interface OpenSearchAccess {
  /** OPENSEARCH_URL split into its nodes (empty when unset). */
  nodes: string[];
  username?: string;
  password?: string;
  /** PEM contents of OPENSEARCH_CA_CERT, OPENSEARCH_CLIENT_CERT and OPENSEARCH_CLIENT_KEY. */
  ca?: string;
  clientCert?: string;
  clientKey?: string;
  /** SigV4 signing (Amazon OpenSearch Service `es` or Serverless `aoss`) with the AWS default credentials. */
  aws?: { region: string; service: 'es' | 'aoss' };
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

/** Node URLs of OPENSEARCH_URL; credentials inside a URL never appear in the error. */
export function parseNodes(value: string | undefined): string[] {
  if (!value) return [];
  const nodes = value
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  for (const n of nodes) {
    if (!/^https?:\/\/[^/]+/.test(n) || !URL.canParse(n)) {
      throw new ConfigError(
        `OPENSEARCH_URL must be an http(s) URL such as http://127.0.0.1:9200, or a comma-separated list of them (got "${n.replace(/\/\/[^/@]*@/, '//***@')}")`,
      );
    }
  }
  if (nodes.length === 0) throw new ConfigError('OPENSEARCH_URL has no node URL');
  return nodes;
}

function pemFile(env: Env, name: string): string | undefined {
  const file = str(env, name);
  if (!file) return undefined;
  let pem: string;
  try {
    pem = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${name}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
  if (!pem.includes('-----BEGIN ')) throw new ConfigError(`${name}: ${file} is not a PEM file`);
  return pem;
}

function openSearchAccess(env: Env): OpenSearchAccess {
  const access: OpenSearchAccess = {
    nodes: parseNodes(str(env, 'OPENSEARCH_URL')),
    username: str(env, 'OPENSEARCH_USERNAME'),
    password: str(env, 'OPENSEARCH_PASSWORD'),
    ca: pemFile(env, 'OPENSEARCH_CA_CERT'),
    clientCert: pemFile(env, 'OPENSEARCH_CLIENT_CERT'),
    clientKey: pemFile(env, 'OPENSEARCH_CLIENT_KEY'),
  };
  if ((access.username === undefined) !== (access.password === undefined)) {
    throw new ConfigError('OPENSEARCH_USERNAME and OPENSEARCH_PASSWORD must be set together');
  }
  if ((access.clientCert === undefined) !== (access.clientKey === undefined)) {
    throw new ConfigError('OPENSEARCH_CLIENT_CERT and OPENSEARCH_CLIENT_KEY must be set together');
  }
  const region = str(env, 'OPENSEARCH_AWS_REGION');
  const service = str(env, 'OPENSEARCH_AWS_SERVICE') ?? 'es';
  if (service !== 'es' && service !== 'aoss') {
    throw new ConfigError(`OPENSEARCH_AWS_SERVICE must be "es" or "aoss" (got "${service}")`);
  }
  if (region) {
    if (access.username) {
      throw new ConfigError('OPENSEARCH_AWS_REGION (SigV4) and OPENSEARCH_USERNAME cannot be used together');
    }
    access.aws = { region, service };
  } else if (str(env, 'OPENSEARCH_AWS_SERVICE')) {
    throw new ConfigError('OPENSEARCH_AWS_SERVICE needs OPENSEARCH_AWS_REGION');
  }
  return access;
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
    sealIntervalMs: num(env, 'AUDIT_SEAL_INTERVAL_SECONDS', 10, 1, 3600) * 1000,
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
  };
}
