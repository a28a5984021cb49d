/**
 * The lifecycle sweep: what the ISM policy (index-templates/audit-logs.ism-policy.json) would do, applied by
 * the day in each index's NAME. Needed twice over: the local engine has no ISM plugin, and ISM ages indices
 * by creation date, so a back-filled old day would look young to it.
 *
 * Per day index: age >= the retention in effect (retention-setting.ts) → delete; else age >= AUDIT_SEAL_AFTER_DAYS and not yet
 * write-blocked → `_block/write` and force merge to one segment. Then per month (consolidate.ts): days of
 * month indices past retention are removed, and a past month whose days are all sealed is consolidated into
 * one month index. Idempotent: a second run changes nothing.
 */
import type { Config } from '../config.ts';
import { dayAgeDays } from '../days.ts';
import { isUnavailable, type Store } from '../store/client.ts';
import { deleteIndex, sealIndex, writeBlockedIndices } from '../store/index-blocks.ts';
import { openIndexNames } from '../store/index-stats.ts';
import { monthIndices } from '../store/month-indices.ts';
import { AUDIT_INDEX_PATTERN, dayOfIndex } from '../store/names.ts';
import { sweepMonths } from './consolidate.ts';
import { recordRetentionDeletes, retentionInEffect } from './retention-setting.ts';
import type { Logger } from '../observe/log.ts';

export interface SweepAction {
  /** The day index (deleted, sealed), or the month index its days were consolidated into. */
  index: string;
  ageDays?: number;
  action: 'deleted' | 'sealed' | 'consolidated';
  /** consolidated: how many day indices the month index replaced. */
  days?: number;
  /** Set when the action failed; the next sweep tries again. */
  error?: string;
}

export interface SweepReport {
  /** Day indices looked at. */
  checked: number;
  actions: SweepAction[];
}

export interface SweepOptions {
  now?: Date;
  /** Which indices to look at (tests narrow it to their own days); default every audit index. */
  pattern?: string;
  /** Aborted when the service stops: a month being consolidated is given up between two day copies. */
  signal?: AbortSignal;
}

export async function sweepLifecycle(
  store: Store,
  cfg: Pick<Config, 'sealAfterDays' | 'retentionDays'>,
  opts: SweepOptions = {},
): Promise<SweepReport> {
  const now = opts.now ?? new Date();
  const pattern = opts.pattern ?? AUDIT_INDEX_PATTERN;
  const names = await openIndexNames(store, pattern);
  const blocked = await writeBlockedIndices(store, pattern, { ignoreMissing: true });
  const months = await monthIndices(store, pattern);
  const report: SweepReport = { checked: 0, actions: [] };
  // Recorded before anything is deleted: a day gone by retention must never read as tampering to verify,
  // even after a crash mid-sweep or a later, longer retention.
  await recordRetentionDeletes(
    store,
    [...names, ...months.flatMap((m) => m.days)].filter((i) => {
      const day = dayOfIndex(i);
      return day !== undefined && dayAgeDays(day, now) >= cfg.retentionDays;
    }),
  );

  for (const index of names.sort()) {
    const day = dayOfIndex(index);
    if (!day) continue; // not a day index: not ours to age
    report.checked++;
    const ageDays = dayAgeDays(day, now);
    let action: SweepAction['action'] | undefined;
    if (ageDays >= cfg.retentionDays) action = 'deleted';
    else if (ageDays >= cfg.sealAfterDays && !blocked.has(index)) action = 'sealed';
    if (!action) continue;
    try {
      if (action === 'deleted') await deleteIndex(store, index);
      else await sealIndex(store, index);
      report.actions.push({ index, ageDays, action });
    } catch (err) {
      if (isUnavailable(err)) throw err;
      report.actions.push({ index, ageDays, action, error: (err as Error).message });
    }
  }

  const ok = (action: SweepAction['action']) =>
    new Set(report.actions.filter((a) => a.action === action && !a.error).map((a) => a.index));
  const deleted = ok('deleted');
  const sealed = new Set([...blocked, ...ok('sealed')]);
  report.actions.push(
    ...(await sweepMonths(
      store,
      months,
      names.filter((i) => !deleted.has(i)),
      sealed,
      cfg,
      now,
      opts.signal,
    )),
  );
  return report;
}

/**
 * Runs the sweep every `lifecycleSweepMs` in the background (never two at once); `stop()` waits for a running
 * one, which gives up a month consolidation between two day copies. Each run reads the retention in effect
 * first, so a change by `npm run retention` reaches every instance within one interval.
 * Each action is logged and handed to `onAction` (metrics).
 */
export function startLifecycleSweep(
  store: Store,
  cfg: Pick<Config, 'sealAfterDays' | 'retentionDays' | 'lifecycleSweepMs'>,
  log: Logger,
  onAction: (action: SweepAction) => void = () => undefined,
  opts: Pick<SweepOptions, 'pattern'> = {},
): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  let retention: string | undefined;
  const stopping = new AbortController();
  const sweep = async () => {
    const r = await retentionInEffect(store, cfg);
    const said = `${r.days} days (${r.source === 'cluster' ? 'set in the cluster' : 'AUDIT_RETENTION_DAYS'})`;
    if (said !== retention)
      log.info({ retentionDays: r.days, source: r.source }, `lifecycle: retention ${said}`);
    retention = said;
    if (r.days <= cfg.sealAfterDays) {
      log.warn(
        `lifecycle: retention ${r.days} days is not above AUDIT_SEAL_AFTER_DAYS (${cfg.sealAfterDays})`,
      );
    }
    return sweepLifecycle(store, { ...cfg, retentionDays: r.days }, { ...opts, signal: stopping.signal });
  };
  const run = () => {
    if (running) return;
    running = sweep()
      .then(
        (report) => {
          for (const a of report.actions) {
            onAction(a);
            if (a.error) log.error({ ...a }, `lifecycle: ${a.action} ${a.index} failed`);
            else if (a.action === 'consolidated')
              log.info({ ...a }, `lifecycle: consolidated ${a.days} sealed day(s) into ${a.index}`);
            else log.info({ ...a }, `lifecycle: ${a.action} ${a.index} (${a.ageDays} days old)`);
          }
        },
        (err: Error) => {
          // Cut short by stop(): not a failure.
          if (stopping.signal.aborted) return;
          log.error(
            { err: err.message },
            `lifecycle: sweep failed, retrying in ${cfg.lifecycleSweepMs / 1000} s`,
          );
        },
      )
      .finally(() => (running = undefined));
  };
  run();
  const timer = setInterval(run, cfg.lifecycleSweepMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      stopping.abort();
      await running;
    },
  };
}
