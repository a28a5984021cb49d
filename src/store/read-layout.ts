/**
 * What a read searches: the audit pattern, or the month indices whose days are all kept in place of their day
 * aliases. This process's view of the layout is cached briefly; every change to indices or aliases drops it.
 */
import { guarded, type Store } from './client.ts';
import {
  AUDIT_INDEX_PATTERN,
  AUDIT_INDEX_PREFIX,
  dayOfIndex,
  expiringMarker,
  MONTH_INDEX_PREFIX,
  monthIndex,
  monthOfIndex,
} from './names.ts';

/** A month index: hidden, write-blocked once built, with a filtered alias per day it holds. */
export interface MonthIndexInfo {
  index: string;
  /** The aliases it answers to: one per day still kept, each named like the day index it replaced. */
  days: string[];
  /** Retention is deleting some of its days' events (it carries expiringMarker). */
  expiring: boolean;
}

export type AliasesAnswer = Record<string, { aliases?: Record<string, unknown> }>;

/** The month indices of a get-alias answer, by name. */
export function monthsIn(answer: AliasesAnswer): MonthIndexInfo[] {
  return Object.entries(answer)
    .filter(([index]) => monthOfIndex(index))
    .map(([index, { aliases = {} }]) => ({
      index,
      days: Object.keys(aliases)
        .filter((a) => dayOfIndex(a))
        .sort(),
      expiring: expiringMarker(index) in aliases,
    }))
    .sort((a, b) => a.index.localeCompare(b.index));
}

/**
 * How long a process trusts what it knows of the month indices. Another instance may consolidate a month or
 * expire days meanwhile; a read that does not know of a new month yet reaches it through its day aliases.
 */
const LAYOUT_TTL_MS = 5_000;

/** Per cluster: the days each whole month answers for (alias → month), and those months. */
type Layout = { monthOfDay: Map<string, string>; months: string[] };

const layouts = new WeakMap<Store, { at: number; layout: Promise<Layout> }>();

/**
 * Runs a change to the indices or aliases, then drops this process's layout (after the change, done or not:
 * a read meanwhile may have seen the old ones).
 */
export async function changingLayout<T>(store: Store, change: () => Promise<T>): Promise<T> {
  try {
    return await guarded(change());
  } finally {
    layouts.delete(store);
  }
}

async function readLayout(store: Store): Promise<Layout> {
  let res;
  try {
    // This node's own view (no round trip to the cluster manager, which may be being elected), briefly.
    res = await guarded(
      store.indices.getAlias(
        { index: AUDIT_INDEX_PATTERN, ignore_unavailable: true, allow_no_indices: true, local: true },
        { requestTimeout: 2_000, maxRetries: 0 },
      ),
    );
  } catch {
    return { monthOfDay: new Map(), months: [] }; // reads go through the day aliases, as they always can
  }
  const answer = res.body as AliasesAnswer;
  const strays = new Set(
    Object.keys(answer).flatMap((index) => {
      const day = dayOfIndex(index);
      return day ? [monthIndex(day)] : [];
    }),
  );
  // Read through its aliases: a month retention is deleting days from, and one with a day index left beside
  // it (written during its build).
  const months = monthsIn(answer).filter((m) => m.days.length > 0 && !m.expiring && !strays.has(m.index));
  return {
    monthOfDay: new Map(months.flatMap((m) => m.days.map((d) => [d, m.index]))),
    months: months.map((m) => m.index),
  };
}

function knownLayout(store: Store): Promise<Layout> {
  const cached = layouts.get(store);
  if (cached && Date.now() - cached.at < LAYOUT_TTL_MS) return cached.layout;
  const entry = { at: Date.now(), layout: readLayout(store) };
  layouts.set(store, entry);
  return entry.layout;
}

/** Longest index expression sent (it travels in the URL, commas encoded, whose first line OpenSearch caps at 4 KB). */
const MAX_EXPRESSION = 2_500;

/**
 * What a read of `index` searches: the audit pattern, or day names whose days the read's createdAt range
 * keeps it within. A month index whose days are all kept is named itself instead of through its day aliases:
 * each alias adds its day's filter to the month's search (about 1.5 ms a month), and resolving the pattern
 * over hundreds of aliases cost some 20 ms a read on 13 months (docs/benchmarks.md).
 */
export async function readTargets(store: Store, index: string): Promise<string> {
  const { monthOfDay, months } = await knownLayout(store);
  if (months.length === 0) return index;
  if (index !== AUDIT_INDEX_PATTERN) {
    return [...new Set(index.split(',').map((name) => monthOfDay.get(name) ?? name))].join(',');
  }
  const days = (month: string) => `-${AUDIT_INDEX_PREFIX}${month.slice(MONTH_INDEX_PREFIX.length)}.*`;
  const expression = [index, ...months.map(days), ...months].join(',');
  return expression.length <= MAX_EXPRESSION ? expression : index;
}
