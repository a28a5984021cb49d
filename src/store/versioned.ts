/**
 * Documents read and written with optimistic concurrency: every write names the version it was computed from
 * (`if_seq_no` + `if_primary_term`, or `op_type: create` for a new document), so two concurrent changes can
 * never silently overwrite each other. Writes do not wait for a refresh (about half a second each): a GET,
 * a multi-get and a terms lookup are realtime, and a listing refreshes its index first, so every read still
 * sees every write before it. The directory repositories (directory.ts) are built on these; failures to reach
 * OpenSearch become StoreUnavailable.
 */
import { guarded, statusOf, storageFailure, type Store } from './client.ts';
import { InvariantViolation } from '../errors.ts';

export interface Versioned<T> {
  doc: T;
  seqNo: number;
  primaryTerm: number;
}

/** The document and its version, or undefined when it does not exist (a realtime GET, no refresh needed). */
export async function getVersioned<T>(
  store: Store,
  index: string,
  id: string,
): Promise<Versioned<T> | undefined> {
  try {
    const { body } = await guarded(store.get({ index, id }));
    return { doc: body._source as T, seqNo: body._seq_no!, primaryTerm: body._primary_term! };
  } catch (err) {
    if (statusOf(err) === 404) return undefined;
    throw storageFailure(err);
  }
}

/**
 * Writes `doc` if the stored document is still `prev` (absent when `prev` is undefined). Returns false when
 * someone else changed it first; every other failure is thrown.
 */
export async function writeIfUnchanged<T>(
  store: Store,
  index: string,
  id: string,
  doc: T,
  prev: Versioned<unknown> | undefined,
): Promise<boolean> {
  try {
    await guarded(
      store.index({
        index,
        id,
        body: doc as Record<string, unknown>,
        ...(prev
          ? { if_seq_no: prev.seqNo, if_primary_term: prev.primaryTerm }
          : { op_type: 'create' as const }),
      }),
    );
    return true;
  } catch (err) {
    if (statusOf(err) === 409) return false;
    throw storageFailure(err);
  }
}

/** Documents written per _bulk request by `writeAllIfUnchanged`. */
const WRITE_BATCH = 1000;

/**
 * Writes many documents of one index, each as `writeIfUnchanged` would, with one _bulk per thousand. Returns how many lost a race with another change; any other failure is thrown.
 */
export async function writeAllIfUnchanged<T>(
  store: Store,
  index: string,
  writes: { id: string; doc: T; prev: Versioned<unknown> | undefined }[],
  /** What the documents are, for the error of a failed write: `member`. */
  what: string,
): Promise<number> {
  let conflicts = 0;
  for (let i = 0; i < writes.length; i += WRITE_BATCH) {
    const chunk = writes.slice(i, i + WRITE_BATCH);
    let body;
    try {
      ({ body } = await guarded(
        store.bulk({
          body: chunk.flatMap((w) => [
            w.prev
              ? {
                  index: {
                    _index: index,
                    _id: w.id,
                    if_seq_no: w.prev.seqNo,
                    if_primary_term: w.prev.primaryTerm,
                  },
                }
              : { create: { _index: index, _id: w.id } },
            w.doc,
          ]),
        } as never),
      ));
    } catch (err) {
      throw storageFailure(err);
    }
    const items = (body as { items: Record<string, { status: number; error?: unknown }>[] }).items;
    for (const item of items) {
      const r = Object.values(item)[0]!;
      if (r.status === 409) conflicts++;
      else if (r.error)
        throw new InvariantViolation(`writing a ${what} document failed: ${JSON.stringify(r.error)}`);
    }
  }
  return conflicts;
}

/** Documents of one org read per page by `listVersionedOfOrg`. */
const PAGE = 1000;

/**
 * Every document of one org in an index, each with its version (for writes conditional on what was listed),
 * ordered by `sortField` and paged with search_after (no 10,000-hit window).
 */
export async function listVersionedOfOrg<T>(
  store: Store,
  index: string,
  orgId: string,
  sortField: string,
): Promise<Versioned<T>[]> {
  const out: Versioned<T>[] = [];
  let after: unknown[] | undefined;
  try {
    // Search sees only refreshed documents, and writes do not wait for a refresh: this one makes them all seen.
    await guarded(store.indices.refresh({ index }));
  } catch (err) {
    throw storageFailure(err);
  }
  for (;;) {
    let body;
    try {
      ({ body } = await guarded(
        store.search({
          index,
          body: {
            size: PAGE,
            query: { term: { orgId } },
            seq_no_primary_term: true,
            sort: [{ [sortField]: 'asc' }],
            ...(after ? { search_after: after } : {}),
          } as never,
        }),
      ));
    } catch (err) {
      throw storageFailure(err);
    }
    const hits = body.hits.hits;
    for (const h of hits) out.push({ doc: h._source as T, seqNo: h._seq_no!, primaryTerm: h._primary_term! });
    if (hits.length < PAGE) return out;
    after = hits[hits.length - 1]!.sort as unknown[];
  }
}
