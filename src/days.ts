/**
 * UTC days: their length, how old a day is, and whether retention has taken it — the rules the lifecycle
 * sweep, ingest's back-fill check and verify share. It imports nothing, so every layer may use it.
 */

export const DAY_MS = 86_400_000;

/** Whole UTC days between the day of `day` and the day of `now` (0 = today, 1 = yesterday). */
export function dayAgeDays(day: Date, now: Date): number {
  const midnight = (d: Date) => Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  return Math.round((midnight(now) - midnight(day)) / DAY_MS);
}

/** The retention's days, and the newest day it has deleted (`YYYY-MM-DD`), if any. */
export interface RetentionRule {
  days: number;
  deletedThrough?: string;
}

/** Whether an event created at `createdAt` falls in a day that retention deletes or has deleted. */
export function pastRetention(retention: RetentionRule, createdAt: Date, now: Date): boolean {
  if (dayAgeDays(createdAt, now) >= retention.days) return true;
  const day = createdAt.toISOString().slice(0, 10);
  return retention.deletedThrough !== undefined && day <= retention.deletedThrough;
}
