/**
 * Month consolidation: once every day of a past month is sealed, the sweep copies its day indices into one
 * month index (`audit-month-YYYY.MM`, outside the audit pattern) and, in one atomic alias change, replaces
 * each day index by a filtered alias of that month with the day index's name. Every name the service uses
 * still works — the ledger's index of an event, the day names of a date range, the audit pattern — but a read
 * over 400 days searches about 14 shards instead of 400. The day stays the unit operators see: `npm run
 * indices` lists consolidated days one by one, and retention removes a day from its month (alias first, then
 * its documents).
 *
 * Safe with several instances and crashes: one instance at a time does this phase (a lease, renewed between
 * day copies and checked again right before the swap); nothing reads a month index before its swap, as no
 * name of the audit pattern points at it; a copy left running by a failed build is cancelled before its month
 * index is dropped and built again.
 */
import type { Config } from '../config.ts';
import { DAY_MS, dayAgeDays } from '../days.ts';
import { Lease } from '../integrity/lease.ts';
import type { Store } from '../store/client.ts';
import { deleteIndex, ensureWriteBlocked, sealIndex } from '../store/index-blocks.ts';
import { countDocs, refreshIndices } from '../store/index-stats.ts';
import {
  cancelCopiesInto,
  copyIndex,
  createMonthIndex,
  dayFilter,
  deleteMonthDocsBefore,
  removeDayAliases,
  swapDaysIntoMonth,
  type MonthDay,
} from '../store/month-indices.ts';
import type { MonthIndexInfo } from '../store/read-layout.ts';
import { dayOfIndex, monthIndex, monthOfIndex } from '../store/names.ts';
import { InvariantViolation } from '../errors.ts';

/** Long enough for any one day copy; the lease is renewed between copies. */
const LEASE_TTL_MS = 60 * 60_000;

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

/** The month phase of the sweep: retention inside month indices, then consolidation. */
export async function sweepMonths(
  store: Store,
  months: MonthIndexInfo[],
  dayIndices: string[],
  blocked: Set<string>,
  cfg: Pick<Config, 'sealAfterDays' | 'retentionDays'>,
  now: Date,
  signal?: AbortSignal,
): Promise<MonthAction[]> {
  const holder = `sweep-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const lease = new Lease(store, 'lifecycle-months', holder, LEASE_TTL_MS);
  if (!(await lease.acquire())) return []; // another instance runs this phase now
  try {
    // A retention delete interrupted (process killed) would leave its month writable.
    await ensureWriteBlocked(
      store,
      months.filter((m) => m.days.length > 0).map((m) => m.index),
    );
    return [
      ...(await expireMonthDays(store, months, cfg, now)),
      ...(await consolidateMonths(store, dayIndices, blocked, months, cfg, now, lease, signal)),
    ];
  } finally {
    await lease.release().catch(() => undefined);
  }
}

/**
 * Retention inside month indices: a day past retention loses its alias (reads stop seeing it), then its
 * documents go; a month whose every day is past retention is deleted whole. Also finishes a removal that a
 * crash interrupted (documents left from before the retention horizon).
 */
async function expireMonthDays(
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
    if (monthOfIndex(m.index)!.getTime() >= horizon || m.days.length === 0) continue; // young, or not built
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
 * (sealed): copy day by day, check each day's count, write block and merge, then the swap. A month index
 * without aliases next to its day indices is a build that did not finish (this instance holds the lease, so
 * nobody is building it): dropped and built again.
 */
async function consolidateMonths(
  store: Store,
  dayIndices: string[],
  blocked: Set<string>,
  months: MonthIndexInfo[],
  cfg: Pick<Config, 'sealAfterDays'>,
  now: Date,
  lease: Lease,
  signal?: AbortSignal,
): Promise<MonthAction[]> {
  const byMonth = new Map<string, string[]>();
  for (const index of dayIndices) {
    const day = dayOfIndex(index);
    if (!day) continue;
    const name = monthIndex(day);
    byMonth.set(name, [...(byMonth.get(name) ?? []), index].sort());
  }
  const keepLease = async () => {
    if (!(await lease.acquire())) throw new Error('the lifecycle lease was lost; the next sweep goes on');
  };
  const actions: MonthAction[] = [];
  for (const [name, indices] of [...byMonth].sort(([a], [b]) => a.localeCompare(b))) {
    if (signal?.aborted) break; // the service is stopping: the next sweep goes on
    const start = monthOfIndex(name)!;
    const next = Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1);
    if (dayAgeDays(new Date(next - DAY_MS), now) < cfg.sealAfterDays) continue; // its last day is not sealed yet
    if (!indices.every((i) => blocked.has(i))) continue; // the sweep seals them first
    const existing = months.find((m) => m.index === name);
    if (existing && existing.days.length > 0) continue; // built: a stray day index stays apart
    let created = false;
    try {
      if (existing) {
        await cancelCopiesInto(store, name);
        await deleteIndex(store, name);
      }
      if (!(created = await createMonthIndex(store, name))) continue; // a copy re-created it: next sweep
      await refreshIndices(store, indices);
      for (const index of indices) {
        await keepLease();
        await copyIndex(store, index, name, signal);
        const expected = await countDocs(store, index);
        const copied = await countDocs(store, name, dayFilter(dayOf(index)));
        if (copied !== expected) {
          throw new InvariantViolation(
            `${name} holds ${copied} events of ${index}, which has ${expected}; days kept`,
          );
        }
      }
      await sealIndex(store, name);
      await keepLease();
      created = false; // a swap that failed may still have been applied: the copy is no longer disposable
      await swapDaysIntoMonth(store, name, indices, indices.map(dayOf));
      actions.push({ index: name, action: 'consolidated', days: indices.length });
    } catch (err) {
      // Before the swap the days are still in their own indices and the copy is nobody's: drop it.
      if (created) await deleteIndex(store, name).catch(() => undefined);
      actions.push({ index: name, action: 'consolidated', error: (err as Error).message });
    }
  }
  return actions;
}
