/**
 * What the lifecycle (sweep, `npm run indices`, `npm run retention`) and ingest ask of a day index's state: its
 * write blocks, sealing and deleting it, ISM's view of it. Failures as in index-stats.ts.
 */
import { guarded, LONG_CALL, statusOf, type Store } from './client.ts';
import { dayOfIndex, monthIndex } from './names.ts';
import { changingLayout } from './read-layout.ts';

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

/** Puts the write block back on those of `indices` that lack it (a retention delete interrupted). */
export async function ensureWriteBlocked(store: Store, indices: string[]): Promise<void> {
  if (indices.length === 0) return;
  const blocked = await writeBlockedIndices(store, indices.join(','), { ignoreMissing: true });
  for (const index of indices)
    if (!blocked.has(index)) await guarded(store.indices.addBlock({ index, block: 'write' }));
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
