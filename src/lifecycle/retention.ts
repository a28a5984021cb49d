/**
 * Changing retention (`npm run retention`): what a new retention would delete now, and applying it at once —
 * stored in the cluster first (retention-setting.ts: every instance's next sweep and every script reads it),
 * then to the ISM policy where the plugin exists, and to the existing day indices through the same sweep the
 * service runs.
 */
import type { Config } from '../config.ts';
import { applyTemplates, desiredPolicy, hasIsm, type Change } from '../store/bootstrap.ts';
import type { Store } from '../store/client.ts';
import { ismChangePolicy } from '../store/index-blocks.ts';
import { AUDIT_INDEX_PATTERN, ISM_POLICY_ID } from '../store/names.ts';
import { checkIndexPattern, listDayIndices, type DayIndexInfo } from './index-listing.ts';
import { retentionInEffect, storeRetention } from './retention-setting.ts';
import { sweepLifecycle, type SweepReport } from './sweep.ts';

export interface RetentionPlan {
  retentionDays: number;
  previousRetentionDays: number;
  sealAfterDays: number;
  /** Day indices past the new retention: the sweep deletes them when the plan is applied. */
  deleteNow: DayIndexInfo[];
  /** Day indices past the seal age but not yet write-blocked: the same sweep seals them. */
  sealNow: DayIndexInfo[];
  /** Whether the cluster has the ISM plugin (its policy gets the new delete age). */
  ism: boolean;
  /** The ISM policy's states with their ages after the change. */
  policy: string;
}

export class RetentionError extends Error {}

function withRetention<C extends Config>(cfg: C, retentionDays: number): C {
  if (!Number.isSafeInteger(retentionDays) || retentionDays < 1 || retentionDays > 36500) {
    throw new RetentionError(`--days must be an integer between 1 and 36500 (got ${retentionDays})`);
  }
  if (retentionDays <= cfg.sealAfterDays) {
    throw new RetentionError(
      `--days ${retentionDays} must be larger than AUDIT_SEAL_AFTER_DAYS (${cfg.sealAfterDays}): a day is ` +
        'sealed before it is deleted.',
    );
  }
  return { ...cfg, retentionDays };
}

export interface RetentionOptions {
  now?: Date;
  /** Which day indices to apply the retention to (default every audit index). */
  pattern?: string;
}

export async function planRetention(
  store: Store,
  cfg: Config,
  retentionDays: number,
  opts: RetentionOptions = {},
): Promise<RetentionPlan> {
  const next = withRetention(cfg, retentionDays);
  const all = await listDayIndices(store, next, opts.now, opts.pattern);
  const policy = desiredPolicy(next).policy as {
    states: { name: string; transitions: { conditions?: { min_index_age?: string } }[] }[];
  };
  return {
    retentionDays,
    previousRetentionDays: (await retentionInEffect(store, cfg)).days,
    sealAfterDays: cfg.sealAfterDays,
    deleteNow: all.filter((i) => i.lifecycle.source === 'sweep' && i.lifecycle.state === 'delete'),
    // Hot past the seal age: the same sweep write-blocks them.
    sealNow: all.filter(
      (i) =>
        i.lifecycle.source === 'sweep' &&
        i.lifecycle.state === 'hot' &&
        Date.parse(i.lifecycle.nextStepAt ?? '') <= (opts.now ?? new Date()).getTime(),
    ),
    ism: await hasIsm(store),
    policy: policy.states
      .map(
        (s) =>
          `${s.name}${s.transitions[0]?.conditions?.min_index_age ? ` (→ after ${s.transitions[0].conditions.min_index_age})` : ''}`,
      )
      .join(' → '),
  };
}

export interface RetentionResult {
  /** What happened to the ISM policy (and the other templates, which should be unchanged). */
  changes: Change[];
  sweep: SweepReport;
  /** With ISM: how many managed indices were switched to the new policy version. */
  ismIndicesUpdated?: number;
}

export async function applyRetention(
  store: Store,
  cfg: Config,
  retentionDays: number,
  opts: RetentionOptions = {},
): Promise<RetentionResult> {
  const next = withRetention(cfg, retentionDays);
  const pattern = checkIndexPattern(opts.pattern ?? AUDIT_INDEX_PATTERN);
  // Stored first: should a later step fail, the service's next sweep finishes the job with the new value.
  await storeRetention(store, retentionDays);
  const changes = await applyTemplates(store, next);
  let ismIndicesUpdated: number | undefined;
  if (changes.some((c) => c.kind === 'ISM policy' && c.action !== 'skipped')) {
    // ISM keeps running the policy version an index started with; move the existing indices to the new one.
    ismIndicesUpdated = await ismChangePolicy(store, pattern, ISM_POLICY_ID);
  }
  // The sweep ages by the day in the name, which ISM cannot: it deletes back-filled old days too.
  const sweep = await sweepLifecycle(store, next, { pattern, ...(opts.now ? { now: opts.now } : {}) });
  const failed = sweep.actions.filter((a) => a.error);
  if (failed.length > 0) {
    throw new RetentionError(
      `the retention was applied to the policy, but ${failed.length} index action(s) failed: ` +
        failed.map((a) => `${a.action} ${a.index}: ${a.error}`).join('; ') +
        '. Run the command again to retry them.',
    );
  }
  return { changes, sweep, ...(ismIndicesUpdated !== undefined ? { ismIndicesUpdated } : {}) };
}
