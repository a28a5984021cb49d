/** How old a UTC day is: the one rule the lifecycle sweep and the ingest back-fill check share. */

const DAY_MS = 86_400_000;

/** Whole UTC days between the day of `day` and the day of `now` (0 = today, 1 = yesterday). */
export function dayAgeDays(day: Date, now: Date): number {
  const midnight = (d: Date) => Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  return Math.round((midnight(now) - midnight(day)) / DAY_MS);
}
