/**
 * The one retention setting. Precedence: the days stored in the cluster by `npm run retention -- --days N`
 * (read by every instance and script), else AUDIT_RETENTION_DAYS of the process (default 400) while nothing
 * is stored. The service reads it at every lifecycle sweep; a script once per run.
 */
import type { Config } from '../config.ts';
import type { Store } from '../store/client.ts';
import {
  raiseDeletedThrough,
  readDeletedThrough,
  readRetentionSetting,
  writeRetentionSetting,
} from '../store/settings.ts';
import { dayOfIndex } from '../store/names.ts';
import { dayAgeDays } from './age.ts';

export interface RetentionInEffect {
  days: number;
  /** `cluster`: set with `npm run retention`; `environment`: AUDIT_RETENTION_DAYS (or its default). */
  source: 'cluster' | 'environment';
  /** When the cluster's setting was last changed. */
  changedAt?: string;
  /** The newest day retention has deleted (`YYYY-MM-DD`): an event of a day up to it may be gone by design. */
  deletedThrough?: string;
}

export async function retentionInEffect(
  store: Store,
  cfg: Pick<Config, 'retentionDays'>,
): Promise<RetentionInEffect> {
  const [stored, deletedThrough] = await Promise.all([
    readRetentionSetting(store),
    readDeletedThrough(store),
  ]);
  return {
    ...(stored
      ? { days: stored.days, source: 'cluster' as const, changedAt: stored.changedAt }
      : { days: cfg.retentionDays, source: 'environment' as const }),
    ...(deletedThrough ? { deletedThrough } : {}),
  };
}

/** `cfg` with the retention in effect in place of AUDIT_RETENTION_DAYS. */
export async function withRetentionInEffect<C extends Pick<Config, 'retentionDays'>>(
  store: Store,
  cfg: C,
): Promise<C> {
  return { ...cfg, retentionDays: (await retentionInEffect(store, cfg)).days };
}

export async function storeRetention(store: Store, days: number, now = new Date()): Promise<void> {
  await writeRetentionSetting(store, { days, changedAt: now.toISOString() });
}

/** Records how far retention has deleted, from the day names the sweep deleted. */
export async function recordRetentionDeletes(store: Store, deletedIndices: string[]): Promise<void> {
  const days = deletedIndices
    .map((i) => dayOfIndex(i)?.toISOString().slice(0, 10))
    .filter((d): d is string => d !== undefined)
    .sort();
  if (days.length > 0) await raiseDeletedThrough(store, days[days.length - 1]!);
}

/** Whether an event created at `createdAt` falls in a day that retention deletes or has deleted. */
export function pastRetention(
  retention: Pick<RetentionInEffect, 'days' | 'deletedThrough'>,
  createdAt: Date,
  now: Date,
): boolean {
  if (dayAgeDays(createdAt, now) >= retention.days) return true;
  const day = createdAt.toISOString().slice(0, 10);
  return retention.deletedThrough !== undefined && day <= retention.deletedThrough;
}
