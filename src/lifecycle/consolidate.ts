/**
 * Month consolidation: once every day of a past month is sealed, the sweep copies its day indices into one
 * month index and, in one atomic alias swap, replaces each day index by a filtered alias of that month with
 * the day index's name. Every name the service uses still works — the ledger's index of an event, the day
 * names of a date range, the audit pattern — but a read over 400 days searches about 14 shards instead of
 * 400. The day stays the unit operators see: `npm run indices` lists consolidated days one by one, and
 * retention removes a day from its month (alias first, then its documents).
 *
 * Safe with several instances and crashes: the month index is hidden until the swap (no search sees a day
 * twice), its name is fixed (a second builder finds it and leaves it alone), and a build abandoned without its
 * swap is dropped and redone after `staleBuildMs`.
 */
import type { Config } from '../config.ts';
import type { Store } from '../store/client.ts';
import {
  copyIndex,
  countDocs,
  createMonthIndex,
  deleteIndex,
  deleteMonthDocsBefore,
  refreshIndices,
  removeDayAliases,
  sealIndex,
  swapDaysIntoMonth,
  type MonthDay,
  type MonthIndexInfo,
} from '../store/indices.ts';
import { dayOfIndex, monthIndex, monthOfIndex } from '../store/names.ts';
import { dayAgeDays } from './age.ts';

const DAY_MS = 86_400_000;

export interface MonthAction {
  /** The month index; for a day removed by retention, the day's name. */
  index: string;
  action: 'consolidated' | 'deleted';
  /** consolidated: how many day indices the month index replaced. */
  days?: number;
  /** deleted: the day's age. */
  ageDays?: number;
  error?: string;
}

/** A day index's alias in its month: its name and its createdAt span. */
function dayOf(index: string): MonthDay {
  const from = dayOfIndex(index)!.getTime();
  return { name: index, from, to: from + DAY_MS };
}

/**
 * Retention inside month indices: a day past retention loses its alias (reads stop seeing it), then its
 * documents go; a month whose every day is past retention is deleted whole. Also finishes a removal that a
 * crash interrupted (documents left from before the retention horizon).
 */
export async function expireMonthDays(
  store: Store,
  months: MonthIndexInfo[],
  cfg: Pick<Config, 'retentionDays'>,
  now: Date,
): Promise<MonthAction[]> {
  const age = (name: string) => dayAgeDays(dayOfIndex(name)!, now);
  // The first UTC midnight still within retention: everything created before it is past retention.
  const horizon =
    Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) - (cfg.retentionDays - 1) * DAY_MS;
  const actions: MonthAction[] = [];
  for (const m of months) {
    if (monthOfIndex(m.index)!.getTime() >= horizon || m.days.length === 0) continue; // young, or being built
    const expired = m.days.filter((name) => age(name) >= cfg.retentionDays);
    try {
      if (expired.length === m.days.length) {
        await deleteIndex(store, m.index);
      } else {
        if (expired.length > 0) await removeDayAliases(store, m.index, expired);
        const old = { range: { createdAt: { lt: new Date(horizon).toISOString() } } };
        if ((await countDocs(store, m.index, old)) > 0) await deleteMonthDocsBefore(store, m.index, horizon);
      }
      for (const name of expired) actions.push({ index: name, action: 'deleted', ageDays: age(name) });
    } catch (err) {
      actions.push({ index: m.index, action: 'deleted', error: (err as Error).message });
    }
  }
  return actions;
}

/**
 * Consolidates each month whose days are all past the seal age and whose day indices are all write-blocked
 * (sealed): copy, check the count, write block and merge, then the swap. Drops month indices a build left
 * behind (never swapped in, older than `staleBuildMs`): their days are still in their own indices, or gone.
 */
export async function consolidateMonths(
  store: Store,
  dayIndices: string[],
  blocked: Set<string>,
  months: MonthIndexInfo[],
  cfg: Pick<Config, 'sealAfterDays'>,
  now: Date,
  staleBuildMs: number,
  signal?: AbortSignal,
): Promise<MonthAction[]> {
  const byMonth = new Map<string, string[]>();
  for (const index of dayIndices) {
    const day = dayOfIndex(index);
    if (!day) continue;
    const name = monthIndex(day);
    byMonth.set(name, [...(byMonth.get(name) ?? []), index].sort());
  }
  // Creation times are the cluster's clock, not the sweep's `now` (which tests move).
  const abandoned = (m: MonthIndexInfo) => m.days.length === 0 && Date.now() - m.createdAtMs >= staleBuildMs;
  const actions: MonthAction[] = [];
  for (const m of months) {
    if (abandoned(m) && !byMonth.has(m.index)) await deleteIndex(store, m.index);
  }
  for (const [name, indices] of [...byMonth].sort(([a], [b]) => a.localeCompare(b))) {
    if (signal?.aborted) break; // the service is stopping: the next sweep goes on
    const start = monthOfIndex(name)!;
    const next = Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1);
    if (dayAgeDays(new Date(next - DAY_MS), now) < cfg.sealAfterDays) continue; // its last day is not sealed yet
    if (!indices.every((i) => blocked.has(i))) continue; // the sweep seals them first
    const existing = months.find((m) => m.index === name);
    if (existing && !abandoned(existing)) continue; // built (a stray day stays apart), or being built
    let created = false;
    try {
      if (existing) await deleteIndex(store, name);
      if (!(created = await createMonthIndex(store, name))) continue;
      await refreshIndices(store, indices);
      let expected = 0;
      for (const index of indices) {
        signal?.throwIfAborted(); // a copy left half done is dropped below
        expected += await countDocs(store, index);
        await copyIndex(store, index, name);
      }
      const copied = await countDocs(store, name);
      if (copied !== expected) {
        throw new Error(`the copy holds ${copied} events, its days ${expected}; the day indices were kept`);
      }
      await sealIndex(store, name);
      created = false; // a swap that failed may still have been applied: the copy is no longer disposable
      await swapDaysIntoMonth(store, name, indices, indices.map(dayOf));
      actions.push({ index: name, action: 'consolidated', days: indices.length });
    } catch (err) {
      // Before the swap the days are still in their own indices and the hidden copy is nobody's: drop it.
      if (created) await deleteIndex(store, name).catch(() => undefined);
      actions.push({ index: name, action: 'consolidated', error: (err as Error).message });
    }
  }
  return actions;
}
