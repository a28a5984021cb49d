/**
 * Month indices: the sealed days of a past month in one index (lifecycle/consolidate.ts) — building one,
 * swapping its days in as filtered aliases, and retention deleting its oldest days. Failures as in
 * index-stats.ts.
 */
import { guarded, LONG_CALL, type Store } from './client.ts';
import { dayIndex, expiringMarker, monthPattern, TEMPLATE_NAME } from './names.ts';
import { changingLayout, monthsIn, type AliasesAnswer, type MonthIndexInfo } from './read-layout.ts';

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
