/**
 * What `npm run indices` shows: every audit day index with its size, where it is in its lifecycle, whether it
 * is write-blocked, and how many of its events are not yet in a seal. With the ISM plugin the lifecycle comes
 * from ISM's explain API; without it (the local engine) it is derived from the same rules the in-service
 * sweep applies, so the table says what the sweep will do next and when.
 */
import type { Config } from '../config.ts';
import { DAY_MS, dayAgeDays } from '../days.ts';
import { pendingClause } from '../integrity/ledger.ts';
import { sealCursors } from '../integrity/seals.ts';
import { hasIsm } from '../store/bootstrap.ts';
import type { Store } from '../store/client.ts';
import { ismExplain, writeBlockedIndices } from '../store/index-blocks.ts';
import { indexStats, ledgerEntriesPerIndex, refreshIndices } from '../store/index-stats.ts';
import { docsPerDay, monthIndices } from '../store/month-indices.ts';
import {
  AUDIT_INDEX_PATTERN,
  AUDIT_INDEX_PREFIX,
  dayOfIndex,
  INTERNAL,
  monthOfIndex,
} from '../store/names.ts';

export type LifecycleState = 'hot' | 'sealed' | 'delete';

export interface Lifecycle {
  state: LifecycleState;
  /** What happens next, e.g. "write block + force merge" or "delete"; undefined when nothing is left. */
  nextStep?: string;
  /** When that next step is due (ISO); in the past means "at the next sweep". */
  nextStepAt?: string;
  /** Who drives the lifecycle: the ISM plugin, or the service's name-based sweep. */
  source: 'ism' | 'sweep';
  /** ISM's own words (policy, state, action, info) when the plugin manages the index. */
  ism?: Record<string, unknown>;
}

export interface DayIndexInfo {
  index: string;
  /** `YYYY-MM-DD`, or undefined for an index under the pattern whose name carries no day. */
  day?: string;
  docs: number;
  sizeBytes: number;
  writeBlocked: boolean;
  /** Events of this index the ledger does not yet list in a seal (0 = everything is sealed). */
  unsealed: number;
  /** For a day consolidated into its month index: that index (the day's name is its alias). */
  storedIn?: string;
  lifecycle: Lifecycle;
}

/**
 * Where a day index is by the sweep's rules (sweep.ts, ages by `dayAgeDays`): hot until the day is
 * `sealAfterDays` old (then write block and force merge), deleted once it is `retentionDays` old. The next
 * step is due at the UTC midnight on which the day reaches that age; the sweep acts on its next run after.
 */
export function plannedLifecycle(
  day: Date,
  cfg: Pick<Config, 'sealAfterDays' | 'retentionDays'>,
  now: Date,
  writeBlocked: boolean,
): Lifecycle {
  const age = dayAgeDays(day, now);
  const sealAt = day.getTime() + cfg.sealAfterDays * DAY_MS;
  const deleteAt = day.getTime() + cfg.retentionDays * DAY_MS;
  const iso = (ms: number) => new Date(ms).toISOString();
  if (age >= cfg.retentionDays)
    return { state: 'delete', nextStep: 'delete', nextStepAt: iso(deleteAt), source: 'sweep' };
  // Sealed means write-blocked: an index past the seal age that the sweep has not reached yet is still hot,
  // with its next step overdue (done at the next sweep).
  if (writeBlocked)
    return { state: 'sealed', nextStep: 'delete', nextStepAt: iso(deleteAt), source: 'sweep' };
  return { state: 'hot', nextStep: 'write block + force merge', nextStepAt: iso(sealAt), source: 'sweep' };
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function ismLifecycle(explained: Json | undefined): Lifecycle {
  const state = (explained?.state?.name ?? 'hot') as LifecycleState;
  return {
    state,
    nextStep: explained?.action?.name ?? (state === 'hot' ? 'transition to sealed' : undefined),
    source: 'ism',
    ism: {
      policy: explained?.policy_id ?? explained?.['index.plugins.index_state_management.policy_id'] ?? null,
      state: explained?.state?.name ?? null,
      action: explained?.action?.name ?? null,
      info: explained?.info ?? null,
    },
  };
}

const ORGS_PER_QUERY = 50;

/** Ledger entries not in a seal yet, per day index (see integrity/ledger.ts for what "not in a seal" means). */
async function unsealedByIndex(store: Store): Promise<Map<string, number>> {
  await refreshIndices(store, [INTERNAL.ledger, INTERNAL.seals]);
  const cursors = await sealCursors(store);
  const sealedOrgs = [...cursors.keys()];
  // Orgs without a seal: all their entries; the others: what their cursor has not passed. An org's clause
  // holds about a dozen clauses, so a query each for up to 50 orgs stays under the engine's limit of 1,024.
  const queries: object[] = [{ bool: { must_not: [{ terms: { orgId: sealedOrgs } }] } }];
  for (let from = 0; from < sealedOrgs.length; from += ORGS_PER_QUERY) {
    queries.push({
      bool: {
        should: sealedOrgs
          .slice(from, from + ORGS_PER_QUERY)
          .map((orgId) => pendingClause(orgId, cursors.get(orgId))),
        minimum_should_match: 1,
      },
    });
  }
  const out = new Map<string, number>();
  for (const query of queries) {
    for (const [index, n] of await ledgerEntriesPerIndex(store, query)) {
      out.set(index, (out.get(index) ?? 0) + n);
    }
  }
  return out;
}

/**
 * Checks an operator's index pattern (e.g. `audit-logs-2024.*`, comma-separated for several): every part must
 * start with the audit prefix, so the lifecycle scripts can never touch another index.
 */
export function checkIndexPattern(pattern: string): string {
  const parts = pattern.split(',');
  if (parts.some((p) => !p.startsWith(AUDIT_INDEX_PREFIX) || !/^[a-z0-9.*_-]+$/.test(p))) {
    throw new Error(
      `--pattern must name audit day indices, each part starting with "${AUDIT_INDEX_PREFIX}" ` +
        `(e.g. "${AUDIT_INDEX_PREFIX}2024.*"); got "${pattern}"`,
    );
  }
  return pattern;
}

export async function listDayIndices(
  store: Store,
  cfg: Pick<Config, 'sealAfterDays' | 'retentionDays'>,
  now = new Date(),
  pattern = AUDIT_INDEX_PATTERN,
): Promise<DayIndexInfo[]> {
  checkIndexPattern(pattern);
  const rows = (await indexStats(store, pattern)).filter((r) => !monthOfIndex(r.index));
  const months = await monthIndices(store, pattern);
  if (rows.length === 0 && months.length === 0) return [];
  const blocked = rows.length > 0 ? await writeBlockedIndices(store, pattern) : new Set<string>();
  const unsealed = await unsealedByIndex(store);
  const explained = (await hasIsm(store)) ? await ismExplain(store, pattern) : undefined;

  // A consolidated day is listed as the day it is, its size the month's share by its events. The sweep
  // manages month indices (ISM's pattern does not name them), so their days follow the sweep's rules.
  const consolidated: DayIndexInfo[] = [];
  const built = months.filter((m) => m.days.length > 0).map((m) => m.index);
  const stats = new Map(
    (built.length > 0 ? await indexStats(store, built.join(',')) : []).map((r) => [r.index, r]),
  );
  const monthBlocked =
    built.length > 0 ? await writeBlockedIndices(store, built.join(','), { ignoreMissing: true }) : new Set();
  for (const m of months) {
    if (m.days.length === 0) continue; // a build in progress
    const perDay = await docsPerDay(store, m.index);
    const { docs: total = 0, sizeBytes = 0 } = stats.get(m.index) ?? {};
    const writeBlocked = monthBlocked.has(m.index);
    for (const index of m.days) {
      const day = dayOfIndex(index)!;
      const docs = perDay.get(index) ?? 0;
      consolidated.push({
        index,
        day: day.toISOString().slice(0, 10),
        docs,
        sizeBytes: total > 0 ? Math.round((sizeBytes * docs) / total) : 0,
        writeBlocked,
        unsealed: unsealed.get(index) ?? 0,
        lifecycle: plannedLifecycle(day, cfg, now, writeBlocked),
        storedIn: m.index,
      });
    }
  }

  return rows
    .map((r): DayIndexInfo => {
      const writeBlocked = blocked.has(r.index);
      const day = dayOfIndex(r.index);
      const lifecycle = explained
        ? ismLifecycle(explained[r.index])
        : day
          ? plannedLifecycle(day, cfg, now, writeBlocked)
          : { state: writeBlocked ? ('sealed' as const) : ('hot' as const), source: 'sweep' as const };
      return {
        index: r.index,
        ...(day ? { day: day.toISOString().slice(0, 10) } : {}),
        docs: r.docs,
        sizeBytes: r.sizeBytes,
        writeBlocked,
        unsealed: unsealed.get(r.index) ?? 0,
        lifecycle,
      };
    })
    .concat(consolidated)
    .sort((a, b) => a.index.localeCompare(b.index));
}

/** The explanation of one index: ISM's explain answer with the plugin, else the sweep's reasoning. */
export async function explainIndex(
  store: Store,
  cfg: Pick<Config, 'sealAfterDays' | 'retentionDays'>,
  index: string,
  now = new Date(),
): Promise<Record<string, unknown>> {
  const info = /^[a-z0-9._-]+$/.test(index)
    ? (await listDayIndices(store, cfg, now, AUDIT_INDEX_PATTERN)).find((i) => i.index === index)
    : undefined;
  if (!info) throw new Error(`no audit index named "${index}" (run \`npm run indices\` for the list)`);
  if (info.lifecycle.source === 'ism') return { index, ism: (await ismExplain(store, index))[index] ?? null };
  const day = info.day ? new Date(`${info.day}T00:00:00Z`) : undefined;
  const reasons: string[] = [
    "This cluster has no index-management (ISM) plugin; the service's lifecycle sweep manages audit indices by " +
      'the day in their name (ISM would age them by creation date, which is wrong for back-filled days).',
  ];
  if (day) {
    const age = dayAgeDays(day, now);
    reasons.push(
      `The index holds ${info.day}; it is ${age} day(s) old (counted from the start of that UTC day).`,
      `Rules: write block + force merge at ${cfg.sealAfterDays} day(s) (AUDIT_SEAL_AFTER_DAYS), delete at ` +
        `${cfg.retentionDays} day(s) (the retention in effect: npm run retention shows where it is set).`,
      info.lifecycle.state === 'hot'
        ? Date.parse(info.lifecycle.nextStepAt!) <= now.getTime()
          ? 'It is hot (writable) but past the seal age: the next sweep write-blocks and force-merges it.'
          : `It is hot (writable); it will be write-blocked and force-merged at ${info.lifecycle.nextStepAt}.`
        : info.lifecycle.state === 'sealed'
          ? `It is sealed (write-blocked); it will be deleted at ${info.lifecycle.nextStepAt}.`
          : 'It is past retention: the next sweep deletes it.',
    );
    if (info.storedIn) {
      reasons.push(
        `Its month is consolidated: the day's events are kept in ${info.storedIn}, read through an alias ` +
          `named ${index}; retention removes the day from that index.`,
      );
    }
  } else {
    reasons.push('Its name carries no day, so the sweep does not manage it.');
  }
  return { ...info, explanation: reasons };
}
