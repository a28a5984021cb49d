/**
 * The index-management repository: what the lifecycle (sweep, `npm run indices`, `npm run retention`) asks of
 * the day indices as indices — their list, sizes and blocks, sealing and deleting them, ISM's view of them.
 * An OpenSearch that cannot answer is StoreUnavailable (storageFailure); other failures pass through as the
 * client reports them: the scripts print their messages.
 */
import { guarded, statusOf, type Store } from './client.ts';
import {
  AUDIT_INDEX_PATTERN,
  AUDIT_INDEX_PREFIX,
  dayIndex,
  dayOfIndex,
  expiringMarker,
  INTERNAL,
  MONTH_INDEX_PREFIX,
  monthIndex,
  monthOfIndex,
  monthPattern,
  TEMPLATE_NAME,
} from './names.ts';

/** A day index as `_cat/indices` lists it: its document count and its size on disk in bytes. */
export interface IndexStats {
  index: string;
  docs: number;
  sizeBytes: number;
}

/** Every index matching `pattern`, closed and hidden ones included, with its document count and size. */
export async function indexStats(store: Store, pattern: string): Promise<IndexStats[]> {
  const res = await guarded(
    store.cat.indices({
      index: pattern,
      format: 'json',
      bytes: 'b',
      h: 'index,docs.count,store.size',
      expand_wildcards: 'all',
    } as never),
  );
  const rows = (res.body as unknown as { index: string; 'docs.count': string; 'store.size': string }[]) ?? [];
  return rows.map((r) => ({
    index: r.index,
    docs: Number(r['docs.count'] ?? 0),
    sizeBytes: Number(r['store.size'] ?? 0),
  }));
}

/** The names of the open indices matching `pattern`. */
export async function openIndexNames(store: Store, pattern: string): Promise<string[]> {
  const res = await guarded(
    store.cat.indices({
      index: pattern,
      format: 'json',
      h: 'index',
      expand_wildcards: 'open',
    } as never),
  );
  return ((res.body ?? []) as unknown as { index: string }[]).map((r) => r.index);
}

/**
 * The indices matching `pattern` that refuse writes (a write or read-only block). `ignoreMissing`: a pattern
 * that names a missing index (or matches none) is no error.
 */
export async function writeBlockedIndices(
  store: Store,
  pattern: string,
  { ignoreMissing = false } = {},
): Promise<Set<string>> {
  const res = await guarded(
    store.indices.getSettings({
      index: pattern,
      name: 'index.blocks.*',
      flat_settings: true,
      ...(ignoreMissing ? { allow_no_indices: true, ignore_unavailable: true } : {}),
    }),
  );
  const body = res.body as Record<string, { settings: Record<string, string> }>;
  return new Set(
    Object.entries(body)
      .filter(
        ([, { settings }]) =>
          settings['index.blocks.write'] === 'true' || settings['index.blocks.read_only'] === 'true',
      )
      .map(([index]) => index),
  );
}

/**
 * Which of `indices` refuse writes for good (a write block or read-only: a sealed day): ingest rejects events
 * for them rather than let the bulk fail. The flood-stage `read_only_allow_delete` is not counted: a full disk
 * passes, and its writes fail for now (StorageFull). Missing indices refuse nothing.
 */
export async function indicesRefusingWrites(store: Store, indices: string[]): Promise<Set<string>> {
  let body: Record<string, { settings?: { index?: { blocks?: Record<string, string> } } }>;
  // A day of a consolidated month refuses what its month index refuses, whether it has an alias or not.
  const monthOf = new Map(
    indices.flatMap((index) => {
      const day = dayOfIndex(index);
      return day ? [[index, monthIndex(day)] as const] : [];
    }),
  );
  try {
    const res = await guarded(
      store.indices.getSettings({
        index: [...new Set([...indices, ...monthOf.values()])].join(','),
        name: 'index.blocks.*',
        ignore_unavailable: true,
        allow_no_indices: true,
      }),
    );
    body = res.body as typeof body;
  } catch (err) {
    if (statusOf(err) === 404) return new Set();
    throw err;
  }
  const out = new Set<string>();
  for (const [index, { settings }] of Object.entries(body)) {
    const blocks = settings?.index?.blocks ?? {};
    if (blocks.write === 'true' || blocks.read_only === 'true') out.add(index);
  }
  for (const [index, month] of monthOf) if (out.has(month)) out.add(index);
  return out;
}

/**
 * For calls that rewrite an index (force merge, copy, delete by query): they take as long as the index is big
 * (a month of events: minutes), and a retry would only start the same work again.
 */
const LONG_CALL = { requestTimeout: 30 * 60_000, maxRetries: 0 };

/** Deletes a day index; one already gone (another instance's sweep) is what was wanted. */
export async function deleteIndex(store: Store, index: string): Promise<void> {
  await changingLayout(store, () => store.indices.delete({ index }, { ignore: [404] }));
}

/**
 * Seals a day index: a write block, then a force merge to one segment — a sealed day never changes again, and
 * one segment is the smallest and fastest form to keep it in.
 */
export async function sealIndex(store: Store, index: string): Promise<void> {
  await guarded(store.indices.addBlock({ index, block: 'write' }));
  await guarded(store.indices.forcemerge({ index, max_num_segments: 1 }, LONG_CALL));
}

/** Ledger entries matching `query`, counted per day index they name (for the unsealed column of the list). */
export async function ledgerEntriesPerIndex(store: Store, query: object): Promise<Map<string, number>> {
  const res = await guarded(
    store.search({
      index: INTERNAL.ledger,
      body: { size: 0, query, aggs: { byIndex: { terms: { field: 'index', size: 10_000 } } } },
    } as never),
  );
  const buckets = ((res.body as { aggregations?: { byIndex?: { buckets?: unknown } } }).aggregations?.byIndex
    ?.buckets ?? []) as { key: string; doc_count: number }[];
  return new Map(buckets.map((b) => [b.key, b.doc_count]));
}

/** Makes every acknowledged write to `indices` visible to searches. */
export async function refreshIndices(store: Store, indices: string[]): Promise<void> {
  await guarded(store.indices.refresh({ index: indices.join(',') }));
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** ISM's explanation of each index matching `pattern`, by index name (only where the plugin exists). */
export async function ismExplain(store: Store, pattern: string): Promise<Record<string, Json>> {
  const res = await guarded(
    store.transport.request({ method: 'GET', path: `/_plugins/_ism/explain/${pattern}` }),
  );
  return res.body as Record<string, Json>;
}

/**
 * Moves the ISM-managed indices matching `pattern` to the current version of policy `policyId` (ISM keeps
 * running the version an index started with); returns how many it switched.
 */
export async function ismChangePolicy(store: Store, pattern: string, policyId: string): Promise<number> {
  const res = await guarded(
    store.transport.request({
      method: 'POST',
      path: `/_plugins/_ism/change_policy/${pattern}`,
      body: { policy_id: policyId },
    }),
  );
  return (res.body as { updated_indices?: number }).updated_indices ?? 0;
}

// --- Month indices: the sealed days of a past month in one index (lifecycle/consolidate.ts) ----------------

/** A month index: hidden, write-blocked once built, with a filtered alias per day it holds. */
export interface MonthIndexInfo {
  index: string;
  /** The aliases it answers to: one per day still kept, each named like the day index it replaced. */
  days: string[];
  /** Retention is deleting some of its days' events (it carries expiringMarker). */
  expiring: boolean;
}

type AliasesAnswer = Record<string, { aliases?: Record<string, unknown> }>;

/** The month indices of a get-alias answer, by name. */
function monthsIn(answer: AliasesAnswer): MonthIndexInfo[] {
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

/** The month indices of the days `pattern` (an audit pattern) names, with their day aliases. */
export async function monthIndices(store: Store, pattern: string): Promise<MonthIndexInfo[]> {
  const res = await guarded(
    store.indices.getAlias({
      index: monthPattern(pattern),
      expand_wildcards: 'all',
      ignore_unavailable: true,
      allow_no_indices: true,
    }),
  );
  return monthsIn(res.body as AliasesAnswer);
}

// --- What a read searches -------------------------------------------------------------------------------------

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
async function changingLayout<T>(store: Store, change: () => Promise<T>): Promise<T> {
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

/**
 * Creates an empty month index with the audit template's settings and mappings (its name is outside the
 * template's pattern): hidden, and not append-only, so that retention can delete its oldest days. False when
 * it exists already.
 */
export async function createMonthIndex(store: Store, index: string): Promise<boolean> {
  const res = await guarded(store.indices.getIndexTemplate({ name: TEMPLATE_NAME }));
  const template = (
    res.body as {
      index_templates: { index_template: { template: { settings?: object; mappings?: object } } }[];
    }
  ).index_templates[0]!.index_template.template;
  try {
    await guarded(
      store.indices.create({
        index,
        body: {
          settings: {
            ...template.settings,
            'index.hidden': true,
            'index.append_only.enabled': false,
            'index.refresh_interval': '-1',
          },
          mappings: template.mappings ?? {},
        },
      }),
    );
    return true;
  } catch (err) {
    const type = (err as { meta?: { body?: { error?: { type?: string } } } }).meta?.body?.error?.type;
    if (type === 'resource_already_exists_exception') return false;
    throw err;
  }
}

/**
 * Copies every document of `from` into `to` and refreshes `to`; an id already there is skipped (a copy an
 * interrupted run began). Runs as a task that is cancelled when this call fails or `signal` aborts, so no copy
 * goes on writing after its caller gave up.
 */
export async function copyIndex(store: Store, from: string, to: string, signal?: AbortSignal): Promise<void> {
  const started = await guarded(
    store.reindex({
      refresh: true,
      wait_for_completion: false,
      body: {
        conflicts: 'proceed',
        source: { index: from, size: 5000 },
        dest: { index: to, op_type: 'create' },
      },
    }),
  );
  const task = (started.body as { task: string }).task;
  try {
    for (;;) {
      signal?.throwIfAborted();
      const res = await guarded(store.tasks.get({ task_id: task }));
      const body = res.body as {
        completed: boolean;
        error?: { reason?: string };
        response?: { failures?: { cause?: { reason?: string } }[] };
      };
      if (!body.completed) {
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      const failures = body.response?.failures ?? [];
      if (body.error || failures.length > 0) {
        throw new Error(
          `copying ${from} into ${to}: ${body.error?.reason ?? `${failures.length} failure(s), e.g. ${failures[0]?.cause?.reason}`}`,
        );
      }
      return;
    }
  } catch (err) {
    await guarded(store.tasks.cancel({ task_id: task })).catch(() => undefined);
    throw err;
  }
}

/** Cancels every copy into `index` still running (one an earlier build left behind), and waits for them to end. */
export async function cancelCopiesInto(store: Store, index: string): Promise<void> {
  for (let attempt = 0; attempt < 30; attempt++) {
    const res = await guarded(store.tasks.list({ actions: '*reindex', detailed: true }));
    const nodes = (
      res.body as { nodes?: Record<string, { tasks: Record<string, { description?: string }> }> }
    ).nodes;
    const ids = Object.values(nodes ?? {}).flatMap((n) =>
      Object.entries(n.tasks)
        .filter(([, t]) => t.description?.includes(` to [${index}]`))
        .map(([id]) => id),
    );
    if (ids.length === 0) return;
    for (const id of ids) await guarded(store.tasks.cancel({ task_id: id })).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`copies into ${index} are still running after being cancelled`);
}

/** Puts the write block back on those of `indices` that lack it (a retention delete interrupted). */
export async function ensureWriteBlocked(store: Store, indices: string[]): Promise<void> {
  if (indices.length === 0) return;
  const blocked = await writeBlockedIndices(store, indices.join(','), { ignoreMissing: true });
  for (const index of indices)
    if (!blocked.has(index)) await guarded(store.indices.addBlock({ index, block: 'write' }));
}

/** How many documents `index` holds (searchable ones: refresh first). */
export async function countDocs(store: Store, index: string, query?: object): Promise<number> {
  const res = await guarded(store.count({ index, ...(query ? { body: { query } } : {}) }));
  return (res.body as { count: number }).count;
}

/** A month's day: the alias name (the day index it stands for) and its `[from, to)` createdAt span in ms. */
export interface MonthDay {
  name: string;
  from: number;
  to: number;
}

/** The createdAt range of one day: a day alias's filter, and how its events are counted in the month. */
export const dayFilter = (d: MonthDay) => ({
  range: { createdAt: { gte: new Date(d.from).toISOString(), lt: new Date(d.to).toISOString() } },
});

/**
 * In one atomic step: the day indices `replaced` disappear and each of `days` becomes a filtered alias of
 * `month`. No search ever sees a day twice or not at all.
 */
export async function swapDaysIntoMonth(
  store: Store,
  month: string,
  replaced: string[],
  days: MonthDay[],
): Promise<void> {
  await changingLayout(store, () =>
    store.indices.updateAliases({
      body: {
        actions: [
          ...replaced.map((index) => ({ remove_index: { index } })),
          ...days.map((d) => ({ add: { index: month, alias: d.name, filter: dayFilter(d) } })),
        ],
      },
    }),
  );
}

/**
 * Removes day aliases from a month index (its days past retention): no read sees those days any more. The month
 * carries expiringMarker until deleteMonthDocsBefore has deleted their events.
 */
export async function removeDayAliases(store: Store, month: string, names: string[]): Promise<void> {
  await changingLayout(store, () =>
    store.indices.updateAliases({
      body: {
        actions: [
          ...names.map((alias) => ({ remove: { index: month, alias } })),
          { add: { index: month, alias: expiringMarker(month) } },
        ],
      },
    }),
  );
}

/**
 * Deletes the month index's events created before `beforeMs` (its days past retention): lifts the write block
 * for the delete, puts it back, and merges the deleted documents away.
 */
export async function deleteMonthDocsBefore(store: Store, month: string, beforeMs: number): Promise<number> {
  await guarded(store.indices.putSettings({ index: month, body: { 'index.blocks.write': false } }));
  let deleted: number;
  try {
    const res = await guarded(
      store.deleteByQuery(
        {
          index: month,
          refresh: true,
          conflicts: 'proceed',
          body: { query: { range: { createdAt: { lt: new Date(beforeMs).toISOString() } } } },
        },
        LONG_CALL,
      ),
    );
    const body = res.body as { deleted?: number; failures?: { cause?: { reason?: string } }[] };
    if (body.failures?.length) {
      throw new Error(
        `deleting from ${month}: ${body.failures.length} failure(s), e.g. ${body.failures[0]?.cause?.reason}`,
      );
    }
    deleted = body.deleted ?? 0;
  } finally {
    await guarded(store.indices.addBlock({ index: month, block: 'write' }));
  }
  await guarded(store.indices.forcemerge({ index: month, only_expunge_deletes: true }, LONG_CALL));
  await changingLayout(store, () =>
    store.indices.deleteAlias({ index: month, name: expiringMarker(month) }, { ignore: [404] }),
  );
  return deleted;
}

/** A month index's documents per day index of their createdAt. */
export async function docsPerDay(store: Store, month: string): Promise<Map<string, number>> {
  const res = await guarded(
    store.search({
      index: month,
      body: {
        size: 0,
        aggs: { days: { date_histogram: { field: 'createdAt', fixed_interval: '1d', min_doc_count: 1 } } },
      },
    }),
  );
  const buckets = ((res.body as { aggregations?: { days?: { buckets?: unknown } } }).aggregations?.days
    ?.buckets ?? []) as { key: number; doc_count: number }[];
  return new Map(buckets.map((b) => [dayIndex(new Date(b.key)), b.doc_count]));
}
