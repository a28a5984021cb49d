/** The one OpenSearch client of the service, and how its failures are classified. */
import { Client, errors as osErrors } from '@opensearch-project/opensearch';
import { parseNodes } from '../config.ts';
import { StorageFull, StoreUnavailable } from '../errors.ts';
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
    err instanceof StoreUnavailable ||
    err instanceof osErrors.ConnectionError ||
    err instanceof osErrors.TimeoutError ||
    err instanceof osErrors.NoLivingConnectionsError
  ) {
    return true;
  }
  return err instanceof osErrors.ResponseError && [429, 502, 503, 504].includes(err.statusCode ?? 0);
}

/**
 * True for OpenSearch's answer to a write while disk space ran out: the flood-stage watermark put a
 * `read_only_allow_delete` block on the index, which refuses writes with 429 (a write block is 403).
 */
export function isDiskBlock(status: number | undefined, error: { type?: string } | undefined): boolean {
  return status === 429 && error?.type === 'cluster_block_exception';
}

/** True when the error means OpenSearch refuses writes for lack of disk space (StorageFull, or its raw answer). */
export function isStorageFull(err: unknown): boolean {
  if (err instanceof StorageFull) return true;
  if (!(err instanceof osErrors.ResponseError)) return false;
  const body = err.meta.body as { error?: { type?: string } } | undefined;
  return isDiskBlock(err.statusCode, body?.error);
}

/**
 * `err` as the storage layer reports it: StorageFull when a disk-space block refused it, StoreUnavailable
 * when OpenSearch cannot answer now, else as it is.
 */
export function storageFailure(err: unknown): unknown {
  if (err instanceof StoreUnavailable) return err;
  if (isStorageFull(err)) return new StorageFull(String(err), { cause: err });
  return isUnavailable(err) ? new StoreUnavailable(String(err), { cause: err }) : err;
}

/** The outcome of a call to OpenSearch, its failure as the storage layer reports it (storageFailure). */
export async function guarded<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (err) {
    throw storageFailure(err);
  }
}

/** Per-call transport options (a write's remaining deadline, no client retries). */
export interface CallOptions {
  maxRetries?: number;
  requestTimeout?: number;
}

/**
 * For calls that rewrite an index (force merge, copy, delete by query): they take as long as the index is big
 * (a month of events: minutes), and a retry would only start the same work again.
 */
export const LONG_CALL = { requestTimeout: 30 * 60_000, maxRetries: 0 };

/** A document to read by multi-get: its index and id, and optionally which `_source` fields to return. */
export interface DocRef {
  _index: string;
  _id: string;
  _source?: boolean | string[];
}

/**
 * Documents by realtime multi-get, in the order asked: a document that is not there — or whose index is not
 * (a day deleted by retention) — is undefined; any other per-document failure is StoreUnavailable, never a
 * guess. `source` applies to refs that name no `_source` of their own.
 */
export async function getMany<T>(
  store: Store,
  docs: DocRef[],
  options: { source?: boolean | string[]; call?: CallOptions } = {},
): Promise<(T | undefined)[]> {
  // A document read with `_source: false` is still there: true stands for it.
  return (await mget<T>(store, docs, options)).map((d) => (d.found ? ((d._source ?? true) as T) : undefined));
}

/**
 * Each document's version as `seqNo:primaryTerm` (it changes with every write), undefined where absent; the
 * same realtime multi-get as getMany, without the sources.
 */
export async function getVersions(store: Store, docs: DocRef[]): Promise<(string | undefined)[]> {
  return (await mget(store, docs, { source: false })).map((d) =>
    d.found ? `${d._seq_no}:${d._primary_term}` : undefined,
  );
}

interface MgetDoc<T> {
  _id: string;
  found?: boolean;
  _source?: T;
  _seq_no?: number;
  _primary_term?: number;
  error?: { type: string; reason?: string };
}

async function mget<T>(
  store: Store,
  docs: DocRef[],
  options: { source?: boolean | string[]; call?: CallOptions },
): Promise<MgetDoc<T>[]> {
  if (docs.length === 0) return [];
  let res;
  try {
    res = await store.mget(
      { body: { docs }, ...(options.source !== undefined ? { _source: options.source } : {}) },
      options.call ?? {},
    );
  } catch (err) {
    throw storageFailure(err);
  }
  const found = (res.body as { docs: MgetDoc<T>[] }).docs;
  for (const d of found) {
    if (d.error && d.error.type !== 'index_not_found_exception') {
      throw new StoreUnavailable(`reading ${d._id}: ${d.error.reason ?? d.error.type}`);
    }
  }
  return found;
}

/**
 * A search whose answer is complete or an error, never a page with shards missing: an index deleted while the
 * search ran (a day swapped into its month, a day past retention) fails a shard, and a page that skipped it
 * would move a search_after walk past events no reader then sees. Tried twice (the names resolve anew), then
 * StoreUnavailable: a 503 the client retries.
 */
export async function searchWhole(store: Store, params: Record<string, unknown>) {
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await store.search({ ...params, allow_partial_search_results: false } as never);
      const failed = (res.body as { _shards?: { failed?: number } })._shards?.failed ?? 0;
      if (failed === 0) return res;
      if (attempt === 2) throw new StoreUnavailable(`a search failed on ${failed} shard(s)`);
    } catch (err) {
      if (attempt === 2 || isUnavailable(err) || statusOf(err) === 400) throw storageFailure(err);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
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
    throw storageFailure(err);
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
    const res = await guarded(
      store.search({
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
      } as never),
    );
    const agg = (
      res.body as unknown as { aggregations: { all: { buckets: B[]; after_key?: Record<string, string> } } }
    ).aggregations.all;
    out.push(...agg.buckets);
    if (!agg.after_key || agg.buckets.length === 0) return out;
    after = agg.after_key;
  }
}
