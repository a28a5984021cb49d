/**
 * How an environment variable's text becomes a value, with an error naming the variable. Only config.ts
 * uses these: it is the one reader of the environment.
 */
import fs from 'node:fs';

/** A variable whose value cannot be used; the message names it. */
export class ConfigError extends Error {}

export type Env = Record<string, string | undefined>;

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

/** A boolean variable: `true`/`1` or `false`/`0`; unset or empty is `dflt`. */
export function bool(env: Env, name: string, dflt = false): boolean {
  const v = env[name];
  if (v === undefined || v === '') return dflt;
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new ConfigError(`${name} must be "true" or "false" (got "${v}")`);
}

/** A number variable within [min, max] (a whole one unless `integer` is false); unset or empty is `dflt`. */
export function num(env: Env, name: string, dflt: number, min: number, max: number, integer = true): number {
  const v = env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min || n > max) {
    throw new ConfigError(
      `${name} must be ${integer ? 'an integer' : 'a number'} between ${min} and ${max} (got "${v}")`,
    );
  }
  return n;
}

/** A variable's text; unset or empty is undefined. */
export function str(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v === '' ? undefined : v;
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

export function openSearchAccess(env: Env): OpenSearchAccess {
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
