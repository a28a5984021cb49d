/** The one OpenSearch client of the service, and how its failures are classified. */
import { Client, errors as osErrors } from '@opensearch-project/opensearch';

export type Store = Client;

export function createStore(url: string): Store {
  return new Client({ node: url, maxRetries: 2, requestTimeout: 30_000 });
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

/** A document's `_source` by realtime GET, or undefined when the document (or its index) does not exist. */
export async function getSource<T>(
  store: Store,
  index: string,
  id: string,
  sourceIncludes?: string,
): Promise<T | undefined> {
  try {
    const res = await store.get({
      index,
      id,
      ...(sourceIncludes ? { _source_includes: sourceIncludes } : {}),
    });
    return (res.body as { _source: T })._source;
  } catch (err) {
    if (statusOf(err) === 404) return undefined;
    throw err;
  }
}
