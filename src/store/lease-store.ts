/**
 * The lease documents (`lease:<name>` in INTERNAL.service), read and written only with optimistic concurrency:
 * what src/integrity/lease.ts builds a leader lease on.
 */
import { guarded, statusOf, type Store } from './client.ts';
import { INTERNAL } from './names.ts';

export interface LeaseDoc {
  kind: 'lease';
  holder: string;
  expiresAt: string;
}

/** A lease document with the version it was read at (for a conditional write). */
export interface LeaseRead {
  doc: LeaseDoc;
  seqNo: number;
  primaryTerm: number;
}

export async function readLease(store: Store, id: string): Promise<LeaseRead | undefined> {
  try {
    const res = await guarded(store.get({ index: INTERNAL.service, id }));
    const b = res.body as { _source: LeaseDoc; _seq_no: number; _primary_term: number };
    return { doc: b._source, seqNo: b._seq_no, primaryTerm: b._primary_term };
  } catch (err) {
    if (statusOf(err) === 404) return undefined;
    throw err;
  }
}

/**
 * Writes the lease: created when `current` is undefined, else replaced only if it is still the version read.
 * False when another instance wrote first.
 */
export async function writeLease(
  store: Store,
  id: string,
  body: LeaseDoc,
  current: LeaseRead | undefined,
): Promise<boolean> {
  try {
    if (!current) {
      await guarded(store.create({ index: INTERNAL.service, id, body }));
      return true;
    }
    await guarded(
      store.index({
        index: INTERNAL.service,
        id,
        body,
        if_seq_no: current.seqNo,
        if_primary_term: current.primaryTerm,
      }),
    );
    return true;
  } catch (err) {
    if (statusOf(err) === 409) return false; // another instance wrote first
    throw err;
  }
}

/** Deletes the lease if it is still the version read (else, or when gone, does nothing). */
export async function deleteLease(store: Store, id: string, current: LeaseRead): Promise<void> {
  try {
    await guarded(
      store.delete({
        index: INTERNAL.service,
        id,
        if_seq_no: current.seqNo,
        if_primary_term: current.primaryTerm,
      }),
    );
  } catch (err) {
    if (statusOf(err) !== 409 && statusOf(err) !== 404) throw err;
  }
}
