/**
 * What the write path does with an event OpenSearch would not store after its ledger entry was claimed: the
 * entry is given back, so the ledger never claims an event that is not there, and the event is answered.
 */
import type { StoredEvent } from '../events/schema.ts';
import type { Store } from '../store/client.ts';
import { writeDocs, type DocVersion, type WriteResult } from '../store/bulk-writes.ts';
import { releaseEntry } from '../store/ledger-store.ts';
import { InvariantViolation } from '../errors.ts';

/**
 * Frees the ledger entries of events this request could not store, each only as the version this request
 * wrote (one renewed since by a concurrent attempt is that attempt's: 409, kept). A full disk allows deletes.
 */
export async function releaseClaims(
  store: Store,
  undo: { doc: StoredEvent; claim?: DocVersion }[],
  deadline: number,
): Promise<void> {
  const deleted = await writeDocs(
    store,
    undo.map(({ doc, claim }) => releaseEntry(doc.orgId, doc.id, claim)),
    deadline,
  );
  const bad = deleted.find((item) => ![200, 404, 409].includes(item.status));
  if (bad)
    throw new InvariantViolation(
      `could not release ledger entry ${bad.id}: ${bad.error?.reason ?? bad.status}`,
    );
}

/** The answer for an event OpenSearch refused for good (not for now: those fail the whole request). */
export function refusedEvent(
  id: string,
  item: WriteResult,
): { id: string; status: 'rejected'; error: string; param?: string } {
  const reason = item.error?.reason ?? `status ${item.status}`;
  if (item.error?.type === 'cluster_block_exception') {
    return {
      id,
      status: 'rejected',
      param: 'createdAt',
      error: `createdAt: the day index ${item.index} is sealed (write-blocked) and accepts no more events (${reason})`,
    };
  }
  return { id, status: 'rejected', error: `OpenSearch refused the event: ${reason}` };
}
