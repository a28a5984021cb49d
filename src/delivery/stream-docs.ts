/**
 * Reading a stream for its org, and changing it safely: a change is computed from the stored document and
 * written only if nothing else wrote meanwhile; when something did (the delivering instance advancing the
 * cursor, another request), it is computed again from the new document.
 */
import { Conflict, NotFound } from '../errors.ts';
import type { Store } from '../store/client.ts';
import { getStreamDoc, writeStreamDoc, type StreamDoc } from '../store/stream-configs.ts';
import type { Versioned } from '../store/versioned.ts';

/** The stream, or 404 when it does not exist or belongs to another org. */
export async function requireStream(store: Store, orgId: string, id: string): Promise<Versioned<StreamDoc>> {
  const found = await getStreamDoc(store, id);
  if (!found || found.doc.orgId !== orgId) throw new NotFound(`Stream "${id}"`);
  return found;
}

const ATTEMPTS = 8;

/**
 * Applies `change` to the stored stream: it returns the next document, or undefined for "nothing to write".
 * Returns the document as stored afterwards, or undefined when the stream is gone.
 */
export async function mutateStream(
  store: Store,
  id: string,
  change: (doc: StreamDoc) => StreamDoc | undefined,
): Promise<StreamDoc | undefined> {
  for (let i = 0; i < ATTEMPTS; i++) {
    const prev = await getStreamDoc(store, id);
    if (!prev) return undefined;
    const next = change(prev.doc);
    if (!next) return prev.doc;
    if (await writeStreamDoc(store, next, prev)) return next;
  }
  throw new Conflict(`Stream "${id}" is being changed by other requests; send the request again.`);
}
