/**
 * The one retention setting. Precedence: the days stored in the cluster by `npm run retention -- --days N`
 * (read by every instance and script), else AUDIT_RETENTION_DAYS of the process (default 400) while nothing
 * is stored. The service reads it at every lifecycle sweep; a script once per run.
 */
import type { Config } from '../config.ts';
import type { RetentionRule } from '../days.ts';
import type { Store } from '../store/client.ts';
import {
  raiseDeletedThrough,
  readDeletedThrough,
  readRetentionSetting,
  writeRetentionSetting,
} from '../store/settings.ts';
import { dayOfIndex } from '../store/names.ts';

export interface RetentionInEffect extends RetentionRule {
  /** `cluster`: set with `npm run retention`; `environment`: AUDIT_RETENTION_DAYS (or its default). */
  source: 'cluster' | 'environment';
  /** When the cluster's setting was last changed. */
  changedAt?: string;
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
