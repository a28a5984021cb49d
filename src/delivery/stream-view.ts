/** A stream as the API answers it: settings without secrets (a hint of each instead) and its lag. */
import type { Store } from '../store/client.ts';
import { getSealHead } from '../store/seal-store.ts';
import type { StreamDoc } from '../store/stream-configs.ts';
import type { StreamView } from './stream-schemas.ts';
import { secretHint, type StreamSecrets } from './stream-secrets.ts';

/**
 * Seconds since the seal holding the stream's next undelivered entry was written; 0 when every sealed entry
 * has been delivered (the cursor is past the newest seal).
 */
export async function lagSeconds(store: Store, doc: StreamDoc, now = Date.now()): Promise<number> {
  const head = await getSealHead(store, doc.orgId, doc.cursor.seq);
  if (!head) return 0;
  return Math.max(0, Math.round((now - Date.parse(head.sealedAt)) / 1000));
}

export async function streamView(store: Store, secrets: StreamSecrets, doc: StreamDoc): Promise<StreamView> {
  const open = secrets.open(doc.id, doc.secrets);
  return {
    id: doc.id,
    orgId: doc.orgId,
    type: doc.type,
    name: doc.name,
    settings: doc.settings,
    secretHints: Object.fromEntries(Object.entries(open).map(([k, v]) => [k, secretHint(v)])),
    filter: doc.filter,
    status: doc.status,
    cursor: doc.cursor,
    lagSeconds: await lagSeconds(store, doc),
    delivered: doc.delivered,
    lastDeliveredAt: doc.lastDeliveredAt ?? null,
    lastError: doc.lastError ?? null,
    failingSince: doc.failingSince ?? null,
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
  };
}
