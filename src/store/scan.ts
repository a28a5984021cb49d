/** Reading every document of a query in order, a page at a time (what verification walks). */
import { searchWhole, type Store } from './client.ts';

const PAGE = 1000;

/** A window of acceptance times; either end may be open. */
export interface AcceptedWindow {
  since?: Date;
  until?: Date;
}

/** Query: the org's documents (events, or ledger entries) accepted in the window. */
export function orgAccepted(orgId: string, window: AcceptedWindow): object {
  const acceptedRange = {
    range: {
      acceptedAt: {
        ...(window.since ? { gte: window.since.toISOString() } : {}),
        ...(window.until ? { lte: window.until.toISOString() } : {}),
      },
    },
  };
  return {
    bool: { filter: [{ term: { orgId } }, ...(window.since || window.until ? [acceptedRange] : [])] },
  };
}

/** The hits of `query` over `index` (missing indices are none), in `sort` order, by search_after. */
export async function* scanHits<T>(
  store: Store,
  index: string,
  query: object,
  sort: object[],
): AsyncGenerator<{ _index: string; _source: T }> {
  let after: (string | number)[] | undefined;
  for (;;) {
    const res = await searchWhole(store, {
      index,
      ignore_unavailable: true,
      allow_no_indices: true,
      body: { size: PAGE, query, sort, ...(after ? { search_after: after } : {}) },
    });
    const hits = (res.body as { hits: { hits: { _index: string; _source: T; sort: (string | number)[] }[] } })
      .hits.hits;
    yield* hits;
    if (hits.length < PAGE) return;
    after = hits[hits.length - 1]!.sort;
  }
}

/** The documents of `query` over `index`, in `sort` order (scanHits without the metadata). */
export async function* scanSources<T>(
  store: Store,
  index: string,
  query: object,
  sort: object[],
): AsyncGenerator<T> {
  for await (const h of scanHits<T>(store, index, query, sort)) yield h._source;
}
