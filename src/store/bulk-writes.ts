/**
 * The write path: writes of documents (events, ledger entries) sent as one `_bulk`, each answered for the
 * caller to check, and what counts as failed for now.
 */
import { StorageFull, StoreUnavailable } from '../errors.ts';
import { guarded, isDiskBlock, type CallOptions, type Store } from './client.ts';

/**
 * One write of a bulk: `create` fails (409) when the id exists, `index` creates or replaces, `delete` removes.
 * A string `doc` is a line of JSON already, sent as it is.
 */
export type DocWrite =
  | { op: 'create' | 'index'; index: string; id: string; doc: object | string }
  | { op: 'delete'; index: string; id: string; ifVersion?: DocVersion };

/** Which write of a document an answer was for: a delete that names it fails (409) once another write followed. */
export interface DocVersion {
  seqNo: number;
  primaryTerm: number;
}

/** What OpenSearch answered for one write: its HTTP-like status, the version it stored, and when it failed, why. */
export interface WriteResult {
  index: string;
  id: string;
  status: number;
  version?: DocVersion;
  error?: { type: string; reason?: string };
}

/** Item statuses that mean "try again later", not "this write is wrong". */
const RETRYABLE = new Set([429, 500, 502, 503, 504]);

/** Whether a write failed for now only (OpenSearch busy or out of disk): it was not stored, and may be retried. */
export const failedForNow = (item: WriteResult) => RETRYABLE.has(item.status);

/** The error for writes of which some failed for now (StorageFull when disk space is why), or undefined. */
export function retryLater(items: WriteResult[]): StoreUnavailable | undefined {
  const full = items.find((it) => isDiskBlock(it.status, it.error));
  if (full) return new StorageFull(`writing ${full.id}: ${full.error?.reason ?? full.status}`);
  const retry = items.find(failedForNow);
  return retry && new StoreUnavailable(`writing ${retry.id}: status ${retry.status}`);
}

/**
 * Per-call options of the write path: no retry by the client (a retried bulk whose first try did land would
 * report this very request's events as duplicates: the producer's retry is the one retry), and a timeout that
 * ends the call at `deadline` (epoch ms; Infinity = none). Past it: StoreUnavailable.
 */
export function writeCall(deadline: number): CallOptions {
  if (deadline === Infinity) return { maxRetries: 0 };
  const left = deadline - Date.now();
  if (left <= 0) throw new StoreUnavailable('the request ran out of time before its next write');
  return { maxRetries: 0, requestTimeout: left };
}

/**
 * The `writes` as one `_bulk`, finished by `deadline`; a result per write, in order, each for the caller to
 * check. A write that failed for now throws (retryLater: StorageFull or StoreUnavailable).
 */
export async function writeDocs(store: Store, writes: DocWrite[], deadline: number): Promise<WriteResult[]> {
  const items = await writeEach(store, writes, deadline);
  const failure = retryLater(items);
  if (failure) throw failure;
  return items;
}

/** writeDocs that throws only when the request itself fails: every item's result, failed-for-now ones too. */
export async function writeEach(store: Store, writes: DocWrite[], deadline: number): Promise<WriteResult[]> {
  if (writes.length === 0) return [];
  const body = writes.flatMap((w) =>
    w.op === 'delete'
      ? [{ delete: { _index: w.index, _id: w.id, ...guard(w.ifVersion) } }]
      : [{ [w.op]: { _index: w.index, _id: w.id } }, w.doc],
  );
  // The client's types list objects only; its serializer (ndserialize) sends a string line as it is.
  const res = await guarded(store.bulk({ body: body as object[] }, writeCall(deadline)));
  type Item = {
    _index: string;
    _id: string;
    status: number;
    error?: WriteResult['error'];
    _seq_no?: number;
    _primary_term?: number;
  };
  return (res.body as unknown as { items: Record<string, Item>[] }).items.map((it) => {
    const { _index, _id, status, error, _seq_no, _primary_term } = Object.values(it)[0]!;
    const stored = error === undefined && _seq_no !== undefined && _primary_term !== undefined;
    return {
      index: _index,
      id: _id,
      status,
      ...(stored ? { version: { seqNo: _seq_no, primaryTerm: _primary_term } } : {}),
      ...(error ? { error } : {}),
    };
  });
}

const guard = (v: DocVersion | undefined) =>
  v ? { if_seq_no: v.seqNo, if_primary_term: v.primaryTerm } : {};

// --- Integrity: what the sealer and verify read of the day indices -------------------------------------------
