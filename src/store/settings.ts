/**
 * Cluster-wide lifecycle settings, two documents in INTERNAL.service: the retention an operator set (what every
 * instance and script reads), and how far retention has deleted (so a deleted day is never taken for tampering).
 */
import { getSource, guarded, statusOf, type Store } from './client.ts';
import { INTERNAL } from './names.ts';

/** The documents' ids in INTERNAL.service. */
export const SETTING_IDS = { retention: 'setting:retention', deletedThrough: 'retention:deleted-through' };
const { retention: RETENTION_ID, deletedThrough: DELETED_THROUGH_ID } = SETTING_IDS;

export interface RetentionSetting {
  days: number;
  /** ISO time of the change. */
  changedAt: string;
}

export async function readRetentionSetting(store: Store): Promise<RetentionSetting | undefined> {
  return (await getSource<{ value: RetentionSetting }>(store, INTERNAL.service, RETENTION_ID))?.value;
}

export async function writeRetentionSetting(store: Store, setting: RetentionSetting): Promise<void> {
  await guarded(
    store.index({ index: INTERNAL.service, id: RETENTION_ID, body: { kind: 'setting', value: setting } }),
  );
}

/** The newest day (`YYYY-MM-DD`) retention has deleted, if it has deleted any. */
export async function readDeletedThrough(store: Store): Promise<string | undefined> {
  return (await getSource<{ value: { day: string } }>(store, INTERNAL.service, DELETED_THROUGH_ID))?.value
    .day;
}

/** Moves the deleted-through day forward to `day` (never back), safe against instances doing it at once. */
export async function raiseDeletedThrough(store: Store, day: string): Promise<void> {
  const body = { kind: 'watermark', value: { day } };
  for (let attempt = 0; attempt < 5; attempt++) {
    let current: { day: string; seqNo: number; primaryTerm: number } | undefined;
    try {
      const res = await guarded(store.get({ index: INTERNAL.service, id: DELETED_THROUGH_ID }));
      const b = res.body as { _source: { value: { day: string } }; _seq_no: number; _primary_term: number };
      current = { day: b._source.value.day, seqNo: b._seq_no, primaryTerm: b._primary_term };
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
    }
    if (current && current.day >= day) return;
    try {
      if (!current) await guarded(store.create({ index: INTERNAL.service, id: DELETED_THROUGH_ID, body }));
      else
        await guarded(
          store.index({
            index: INTERNAL.service,
            id: DELETED_THROUGH_ID,
            body,
            if_seq_no: current.seqNo,
            if_primary_term: current.primaryTerm,
          }),
        );
      return;
    } catch (err) {
      if (statusOf(err) !== 409) throw err; // another instance wrote first: read again
    }
  }
}
