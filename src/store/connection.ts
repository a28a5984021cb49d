/**
 * How the service reaches OpenSearch: the node list, basic auth, TLS (CA, client certificate) or SigV4 turned
 * into the client's options; the start-up check that turns each way of failing into one line naming the
 * variable to fix; and redaction, so no credential reaches a log line or an error message.
 */
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { errors as osErrors, type Client, type ClientOptions } from '@opensearch-project/opensearch';
import { AwsSigv4Signer } from '@opensearch-project/opensearch/aws-v3';
import { parseNodes, type Config, type OpenSearchAccess } from '../config.ts';
import { StoreUnavailable } from '../errors.ts';
import { redact, StartupError } from '../startup-error.ts';

/** Everything the client needs to connect: where (nodes) and how (credentials, TLS, signing). */
export type ConnectionConfig = OpenSearchAccess;

/** The configured access with `url` (one URL or a comma-separated list) as the nodes. */
export function connectionConfig(cfg: Pick<Config, 'opensearch'>, url: string): ConnectionConfig {
  return { ...cfg.opensearch, nodes: parseNodes(url) };
}

/** The client's options. Certificate verification stays on: there is deliberately no switch to turn it off. */
export function clientOptions(conn: ConnectionConfig): ClientOptions {
  const opts: ClientOptions = { node: conn.nodes.length === 1 ? conn.nodes[0] : conn.nodes };
  if (conn.username !== undefined && conn.password !== undefined) {
    opts.auth = { username: conn.username, password: conn.password };
  }
  if (conn.ca || conn.clientCert) {
    opts.ssl = {
      rejectUnauthorized: true,
      ...(conn.ca ? { ca: conn.ca } : {}),
      ...(conn.clientCert ? { cert: conn.clientCert, key: conn.clientKey } : {}),
    };
  }
  if (conn.aws) {
    Object.assign(
      opts,
      AwsSigv4Signer({
        region: conn.aws.region,
        service: conn.aws.service,
        // The SDK's default chain: environment, shared config/SSO profile, web identity, container or instance role.
        getCredentials: defaultProvider(),
      }),
    );
  }
  return opts;
}

/** The nodes for messages, credentials masked. */
export function describeNodes(conn: Pick<ConnectionConfig, 'nodes' | 'password'>): string {
  return redact(conn.nodes.join(','), conn);
}

/**
 * Serverless (aoss) lacks these APIs; the service skips them there (see docs/deploying.md): the root
 * endpoint and cluster health (the start-up check and /healthz use an index existence check instead), the
 * plugin list and ISM (retention falls to the in-service lifecycle sweep).
 */
export function isServerless(conn: Pick<ConnectionConfig, 'aws'>): boolean {
  return conn.aws?.service === 'aoss';
}

/** The first calls of every start-up: proves the cluster answers, trusts our certificates and credentials. */
export async function checkConnection(store: Client, conn: ConnectionConfig): Promise<void> {
  if (isServerless(conn)) {
    await store.indices.exists({ index: 'audit-internal-service' });
    return;
  }
  await store.info();
  await store.cluster.health();
}

/**
 * The security plugin's action name for each call the service makes at start-up and while running, for a 403
 * whose body does not name it (index-templates/security/roles.yml grants them all).
 */
export const PERMISSIONS: [method: string, path: RegExp, permission: string][] = [
  ['GET', /^\/?$/, 'cluster:monitor/main'],
  ['GET', /^\/_cluster\/health/, 'cluster:monitor/health'],
  ['GET', /^\/_cat\/plugins/, 'cluster:monitor/nodes/info'],
  ['GET', /^\/_index_template\//, 'indices:admin/index_template/get'],
  ['PUT', /^\/_index_template\//, 'indices:admin/index_template/put'],
  ['GET', /^\/_plugins\/_ism\/policies\//, 'cluster:admin/opendistro/ism/policy/get'],
  ['PUT', /^\/_plugins\/_ism\/policies\//, 'cluster:admin/opendistro/ism/policy/write'],
  ['HEAD', /^\/[^_/][^/]*\/?$/, 'indices:admin/get'],
  ['PUT', /^\/[^_/][^/]*\/?$/, 'indices:admin/create'],
  ['GET', /^\/[^_/][^/]*\/_mapping/, 'indices:admin/mappings/get'],
  ['PUT', /^\/[^_/][^/]*\/_mapping/, 'indices:admin/mapping/put'],
  ['GET', /^\/[^_/][^/]*\/_settings/, 'indices:monitor/settings/get'],
  ['PUT', /^\/[^_/][^/]*\/_settings/, 'indices:admin/settings/update'],
];

function requestOf(err: unknown): { method?: string; path?: string } {
  const params = (err as { meta?: { meta?: { request?: { params?: { method?: string; path?: string } } } } })
    .meta?.meta?.request?.params;
  return { method: params?.method, path: params?.path };
}

/** What the 403 was for: the permission the security plugin names in its answer, else ours for the call. */
function deniedPermission(err: osErrors.ResponseError): string | undefined {
  const reason = JSON.stringify(err.body ?? '');
  const named = /no permissions for \[([^\]]+)\]/.exec(reason);
  if (named) return named[1];
  const { method, path } = requestOf(err);
  return PERMISSIONS.find(([m, p]) => m === method && p.test(path ?? ''))?.[2];
}

const TLS_PROBLEM =
  /certificate|self[- ]signed|altnames|unable to verify|issuer|wrong version number|ssl|tls|handshake/i;

/** `err` from connecting and applying the templates at start-up, as a StartupError naming what to fix. */
export function startupError(reported: unknown, conn: ConnectionConfig): Error {
  if (reported instanceof StartupError) return reported;
  // What the client itself said, under a storage failure: it tells which variable to fix.
  const err =
    reported instanceof StoreUnavailable && reported.cause !== undefined ? reported.cause : reported;
  const where = describeNodes(conn);
  const detail = redact(err instanceof Error ? err.message : String(err), conn).replace(/\s*\n\s*/g, ' ');
  const line = (text: string) => new StartupError(redact(text, conn));
  if (err instanceof osErrors.ConnectionError && TLS_PROBLEM.test(err.message)) {
    if (/altnames|does not match/i.test(err.message)) {
      return line(
        `TLS verification failed for OpenSearch at ${where}: the certificate does not name the host (${detail}); ` +
          'set OPENSEARCH_URL to a host name the certificate names (or OPENSEARCH_CA_CERT to the right CA)',
      );
    }
    if (
      /certificate required|bad certificate|unknown ca/i.test(err.message) &&
      !/self[- ]signed/.test(err.message)
    ) {
      return line(
        `OpenSearch at ${where} refused the client certificate (${detail}); set OPENSEARCH_CLIENT_CERT and ` +
          'OPENSEARCH_CLIENT_KEY to a certificate its CA trusts',
      );
    }
    if (/wrong version number/i.test(err.message)) {
      return line(`OpenSearch at ${where} does not speak TLS (${detail}); use http:// in OPENSEARCH_URL`);
    }
    return line(
      `TLS verification failed for OpenSearch at ${where} (${detail}); set OPENSEARCH_CA_CERT to the PEM ` +
        "file of the CA that signed the cluster's certificate",
    );
  }
  if (
    err instanceof osErrors.ConnectionError ||
    err instanceof osErrors.TimeoutError ||
    err instanceof osErrors.NoLivingConnectionsError
  ) {
    return line(`cannot reach OpenSearch at ${where}: ${detail}; check OPENSEARCH_URL`);
  }
  if (err instanceof osErrors.ResponseError) {
    const status = err.statusCode;
    const body = JSON.stringify(err.body ?? '');
    if (status === 401) {
      return line(
        `OpenSearch at ${where} refused the credentials (401 Unauthorized); ` +
          (conn.aws
            ? 'check the AWS credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE or the role) and OPENSEARCH_AWS_REGION'
            : 'check OPENSEARCH_USERNAME and OPENSEARCH_PASSWORD (or the user:password in OPENSEARCH_URL)'),
      );
    }
    if (status === 403 && conn.aws && /signature|security token|credential|not authorized/i.test(body)) {
      return line(
        `OpenSearch at ${where} refused the request signature (403: ${redact(body, conn).slice(0, 160)}); ` +
          'check the AWS credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE or the role), ' +
          'OPENSEARCH_AWS_REGION and OPENSEARCH_AWS_SERVICE',
      );
    }
    if (status === 403) {
      const { method, path } = requestOf(err);
      const permission = deniedPermission(err);
      return line(
        `OpenSearch at ${where} denied ${method ?? ''} ${path ?? ''} (403 Forbidden): the user of ` +
          `OPENSEARCH_USERNAME${conn.aws ? ' (or the AWS role)' : ''} lacks the permission ` +
          `${permission ?? '(unknown)'}; grant the role in index-templates/security/roles.yml`,
      );
    }
    // nginx-style gateways answer 400 where OpenSearch itself ends the handshake (below).
    if (status === 400 && /no required ssl certificate/i.test(body)) {
      return line(
        `OpenSearch at ${where} requires a client certificate; set OPENSEARCH_CLIENT_CERT and OPENSEARCH_CLIENT_KEY`,
      );
    }
    if (status === 400 && /plain HTTP request was sent to HTTPS port/i.test(body)) {
      return line(`OpenSearch at ${where} expects TLS; use https:// in OPENSEARCH_URL`);
    }
  }
  if (err instanceof Error) {
    err.message = redact(err.message, conn);
    return err;
  }
  return new Error(detail);
}
