/**
 * The lifecycle sweep: what the ISM policy (index-templates/audit-logs.ism-policy.json) would do, applied by
 * the day in each index's NAME. Needed twice over: the local engine has no ISM plugin, and ISM ages indices
 * by creation date, so a back-filled old day would look young to it.
 *
 * Per day index: age >= AUDIT_RETENTION_DAYS → delete; else age >= AUDIT_SEAL_AFTER_DAYS and not yet
 * write-blocked → `_block/write` and force merge to one segment. Idempotent: a second run changes nothing.
 */
import type { Config } from '../config.ts';
import { isUnavailable, type Store } from '../store/client.ts';
import { deleteIndex, openIndexNames, sealIndex, writeBlockedIndices } from '../store/indices.ts';
import { AUDIT_INDEX_PATTERN, dayOfIndex } from '../store/names.ts';
import { dayAgeDays } from './age.ts';
import type { Logger } from '../observe/log.ts';

export interface SweepAction {
  index: string;
  ageDays: number;
  action: 'deleted' | 'sealed';
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
  const report: SweepReport = { checked: 0, actions: [] };

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
  return report;
}

/**
 * Runs the sweep every `everyMs` in the background (never two at once); `stop()` waits for a running one.
 * Each action is logged and handed to `onAction` (metrics).
 */
export function startLifecycleSweep(
  store: Store,
  cfg: Pick<Config, 'sealAfterDays' | 'retentionDays' | 'lifecycleSweepMs'>,
  log: Logger,
  onAction: (action: SweepAction) => void = () => undefined,
): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  const run = () => {
    if (running) return;
    running = sweepLifecycle(store, cfg)
      .then(
        (report) => {
          for (const a of report.actions) {
            onAction(a);
            if (a.error) log.error({ ...a }, `lifecycle: ${a.action} ${a.index} failed`);
            else log.info({ ...a }, `lifecycle: ${a.action} ${a.index} (${a.ageDays} days old)`);
          }
        },
        (err: Error) =>
          log.error(
            { err: err.message },
            `lifecycle: sweep failed, retrying in ${cfg.lifecycleSweepMs / 1000} s`,
          ),
      )
      .finally(() => (running = undefined));
  };
  run();
  const timer = setInterval(run, cfg.lifecycleSweepMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
