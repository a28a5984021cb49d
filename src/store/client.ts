/** The one OpenSearch client of the service, and how its failures are classified. */
import { Client, errors as osErrors } from '@opensearch-project/opensearch';
import { parseNodes } from '../config.ts';
import { clientOptions, type ConnectionConfig } from './connection.ts';

export type Store = Client;

/** A client for `conn` (nodes, credentials, TLS, signing; see connection.ts), or for plain node URLs. */
export function createStore(conn: ConnectionConfig | string): Store {
  const options = clientOptions(typeof conn === 'string' ? { nodes: parseNodes(conn) } : conn);
  // Answers are parsed as JSON.parse does (a `__proto__` key stays an own property, no prototype is set):
  // the client's default refuses such documents, and one stored value would then break every reader of it.
  return new Client({
    ...options,
    maxRetries: 2,
    requestTimeout: 30_000,
    disablePrototypePoisoningProtection: true,
  });
}

/** True when the error means "OpenSearch cannot take or serve requests now" (answer 503, retry later). */
export function isUnavailable(err: unknown): boolean {
  if (
    err instanceof osErrors.ConnectionError ||
    err instanceof osErrors.TimeoutError ||
    err instanceof osErrors.NoLivingConnectionsError
  ) {
    return true;
  }
  return err instanceof osErrors.ResponseError && [429, 502, 503, 504].includes(err.statusCode ?? 0);
}

/** The HTTP status of an OpenSearch error response, if it was one. */
export function statusOf(err: unknown): number | undefined {
  return err instanceof osErrors.ResponseError ? err.statusCode : undefined;
}

/**
 * A document's `_source` by realtime GET (only the fields `includes` names, without those `excludes` names), or
 * undefined when the document (or its index) does not exist.
 */
export async function getSource<T>(
  store: Store,
  index: string,
  id: string,
  fields: { includes?: string[]; excludes?: string[] } = {},
): Promise<T | undefined> {
  try {
    const res = await store.get({
      index,
      id,
      ...(fields.includes ? { _source_includes: fields.includes } : {}),
      ...(fields.excludes ? { _source_excludes: fields.excludes } : {}),
    });
    return (res.body as { _source: T })._source;
  } catch (err) {
    if (statusOf(err) === 404) return undefined;
    throw err;
  }
}

/**
 * Every bucket of a keyword `field` among the documents of `index` matching `query`, with the `aggs` asked
 * for per bucket: a composite aggregation read 1,000 buckets at a time.
 */
export async function allBuckets<B extends { key: Record<string, string> }>(
  store: Store,
  index: string,
  field: string,
  query: object = { match_all: {} },
  aggs?: object,
): Promise<B[]> {
  const out: B[] = [];
  let after: Record<string, string> | undefined;
  for (;;) {
    const res = await store.search({
      index,
      body: {
        size: 0,
        query,
        aggs: {
          all: {
            composite: {
              size: 1000,
              sources: [{ [field]: { terms: { field } } }],
              ...(after ? { after } : {}),
            },
            ...(aggs ? { aggs } : {}),
          },
        },
      },
    } as never);
    const agg = (
      res.body as unknown as { aggregations: { all: { buckets: B[]; after_key?: Record<string, string> } } }
    ).aggregations.all;
    out.push(...agg.buckets);
    if (!agg.after_key || agg.buckets.length === 0) return out;
    after = agg.after_key;
  }
}
