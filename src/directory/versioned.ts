/**
 * Directory documents read and written with optimistic concurrency: every write names the version it was
 * computed from (`if_seq_no` + `if_primary_term`, or `op_type: create` for a new document), so two concurrent
 * changes can never silently overwrite each other. Writes wait for a refresh so a following read sees them.
 */
import type { AppContext } from '../context.ts';
import { errors } from '../http/errors.ts';
import { statusOf } from '../store/client.ts';

export interface Versioned<T> {
  doc: T;
  seqNo: number;
  primaryTerm: number;
}

/** The document and its version, or undefined when it does not exist (a realtime GET, no refresh needed). */
export async function getVersioned<T>(
  ctx: AppContext,
  index: string,
  id: string,
): Promise<Versioned<T> | undefined> {
  try {
    const { body } = await ctx.store.get({ index, id });
    return { doc: body._source as T, seqNo: body._seq_no!, primaryTerm: body._primary_term! };
  } catch (err) {
    if (statusOf(err) === 404) return undefined;
    throw err;
  }
}

export async function getDoc<T>(ctx: AppContext, index: string, id: string): Promise<T | undefined> {
  return (await getVersioned<T>(ctx, index, id))?.doc;
}

/**
 * Writes `doc` if the stored document is still `prev` (absent when `prev` is undefined). Returns false when
 * someone else changed it first; every other failure is thrown.
 */
export async function writeIfUnchanged<T>(
  ctx: AppContext,
  index: string,
  id: string,
  doc: T,
  prev: Versioned<unknown> | undefined,
): Promise<boolean> {
  try {
    await ctx.store.index({
      index,
      id,
      body: doc as Record<string, unknown>,
      refresh: 'wait_for',
      ...(prev
        ? { if_seq_no: prev.seqNo, if_primary_term: prev.primaryTerm }
        : { op_type: 'create' as const }),
    });
    return true;
  } catch (err) {
    if (statusOf(err) === 409) return false;
    throw err;
  }
}

/** The 409 for a document someone else changed between our read and our write. */
export function concurrentChange(what: string) {
  return errors.conflict(`${what} was changed by another request at the same time; send the request again.`);
}
