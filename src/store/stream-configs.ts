/**
 * Push-stream documents (index INTERNAL.streams, `_id` = stream id): configuration, status and cursor of each
 * stream. Every write is conditional on the version read (versioned.ts), so a cursor advanced by the
 * delivering instance and a change made through the API never overwrite each other.
 */
import { storageFailure, statusOf, type Store } from './client.ts';
import { INTERNAL } from './names.ts';
import { getVersioned, listVersionedOfOrg, writeIfUnchanged, type Versioned } from './versioned.ts';

export type StreamStatus = 'active' | 'paused' | 'failing' | 'disabled';

/** Secret settings, AES-256-GCM encrypted with a key that is never stored in OpenSearch. */
export interface SealedSecrets {
  iv: string;
  tag: string;
  data: string;
}

export interface StreamDoc {
  id: string;
  orgId: string;
  type: string;
  name: string;
  /** The settings without their secret fields. */
  settings: Record<string, unknown>;
  secrets?: SealedSecrets;
  filter: { actions?: string[]; workspaceIds?: string[] };
  status: StreamStatus;
  /** The next entry to deliver: a stream position (src/stream/read.ts). */
  cursor: { seq: number; leaf: number };
  delivered: number;
  lastDeliveredAt?: string;
  lastError?: string;
  failingSince?: string;
  /** The last replay: part of every batch id since, so a replayed batch is not mistaken for a re-sent one. */
  replayedAt?: string;
  createdAt: string;
  updatedAt: string;
}

export const getStreamDoc = (store: Store, id: string) =>
  getVersioned<StreamDoc>(store, INTERNAL.streams, id);

/** Creates (prev undefined) or replaces the stream if unchanged since `prev`; false when another write came first. */
export const writeStreamDoc = (store: Store, doc: StreamDoc, prev: Versioned<StreamDoc> | undefined) =>
  writeIfUnchanged(store, INTERNAL.streams, doc.id, doc, prev);

/** The org's streams, oldest first. */
export async function listOrgStreamDocs(store: Store, orgId: string): Promise<Versioned<StreamDoc>[]> {
  return listVersionedOfOrg<StreamDoc>(store, INTERNAL.streams, orgId, 'createdAt');
}

/** Deletes the stream if unchanged since `prev`; false when another write came first. */
export async function deleteStreamDoc(store: Store, prev: Versioned<StreamDoc>): Promise<boolean> {
  try {
    await store.delete({
      index: INTERNAL.streams,
      id: prev.doc.id,
      if_seq_no: prev.seqNo,
      if_primary_term: prev.primaryTerm,
    });
    return true;
  } catch (err) {
    if (statusOf(err) === 409 || statusOf(err) === 404) return false;
    throw storageFailure(err);
  }
}

/** Ids of the streams some instance should deliver (active or failing), across all orgs. */
export async function deliverableStreamIds(store: Store, max = 10_000): Promise<string[]> {
  try {
    await store.indices.refresh({ index: INTERNAL.streams });
    const { body } = await store.search({
      index: INTERNAL.streams,
      body: {
        size: max,
        query: { terms: { status: ['active', 'failing'] } },
        sort: [{ createdAt: 'asc' }],
        _source: false,
      } as never,
    });
    return (body.hits.hits as { _id: string }[]).map((h) => h._id);
  } catch (err) {
    throw storageFailure(err);
  }
}
