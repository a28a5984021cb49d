/**
 * The org trees' repository: tiles (index INTERNAL.tree, `_id` `<orgId>:<level>:<index>`) and tree heads
 * (INTERNAL.treeHeads, `_id` `<orgId>:<seq, 12 digits>`, one per seal: the tree after that seal and its
 * signed checkpoint note, with the witnesses' cosignature lines as they come). What they mean is told in
 * src/integrity/tiles.ts and src/integrity/org-tree.ts.
 */
import { allBuckets, getMany, getSource, guarded, storageFailure, type Store } from './client.ts';
import { writeDocs } from './bulk-writes.ts';
import { INTERNAL, orgRecordId } from './names.ts';
import { InvariantViolation } from '../errors.ts';

export type TileRef = { level: number; index: number };
export type StoredTile = TileRef & { hashes: Buffer };

export type TreeHead = {
  orgId: string;
  /** The seal whose leaves end the tree. */
  seq: number;
  size: number;
  /** Base64, as the checkpoint has it. */
  root: string;
  note: string;
  keyId: string;
  signedAt: string;
  cosignatures: string[];
};

const tileId = (orgId: string, t: TileRef) => orgRecordId(orgId, `${t.level}:${t.index}`);
const headId = (orgId: string, seq: number) => orgRecordId(orgId, String(seq).padStart(12, '0'));

/** The stored tiles among `refs`, keyed `<level>/<index>` (absent ones are left out). */
export async function getTiles(store: Store, orgId: string, refs: TileRef[]): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  if (refs.length === 0) return out;
  try {
    const docs = await getMany<{ hashes: string }>(
      store,
      refs.map((t) => ({ _index: INTERNAL.tree, _id: tileId(orgId, t) })),
    );
    docs.forEach((d, k) => {
      if (d) out.set(`${refs[k]!.level}/${refs[k]!.index}`, Buffer.from(d.hashes, 'base64'));
    });
    return out;
  } catch (err) {
    throw storageFailure(err);
  }
}

/** Writes tiles over their earlier versions (an append rewrites the same leading hashes). */
export async function putTiles(store: Store, orgId: string, tiles: StoredTile[]): Promise<void> {
  const items = await writeDocs(
    store,
    tiles.map((t) => ({
      op: 'index' as const,
      index: INTERNAL.tree,
      id: tileId(orgId, t),
      doc: { orgId, level: t.level, index: t.index, hashes: t.hashes.toString('base64') },
    })),
    Infinity,
  );
  const failed = items.find((it) => it.error);
  if (failed) throw new InvariantViolation(`a tree tile was not written: ${JSON.stringify(failed.error)}`);
}

/**
 * Creates the heads of seals' trees, in one request; for each, false when it exists already (an earlier,
 * interrupted attempt).
 */
export async function createTreeHeads(store: Store, heads: TreeHead[]): Promise<boolean[]> {
  const items = await writeDocs(
    store,
    heads.map((h) => ({
      op: 'create' as const,
      index: INTERNAL.treeHeads,
      id: headId(h.orgId, h.seq),
      doc: h,
    })),
    Infinity,
  );
  return items.map((it) => {
    if (it.status === 409) return false;
    if (it.error) throw new InvariantViolation(`a tree head was not written: ${JSON.stringify(it.error)}`);
    return true;
  });
}

export async function getTreeHead(store: Store, orgId: string, seq: number): Promise<TreeHead | undefined> {
  try {
    return await getSource<TreeHead>(store, INTERNAL.treeHeads, headId(orgId, seq));
  } catch (err) {
    throw storageFailure(err);
  }
}

/** The heads of the given seals, in the order asked (undefined where a seal has none yet). */
export async function getTreeHeads(
  store: Store,
  orgId: string,
  seqs: number[],
): Promise<(TreeHead | undefined)[]> {
  if (seqs.length === 0) return [];
  try {
    return await getMany<TreeHead>(
      store,
      seqs.map((seq) => ({ _index: INTERNAL.treeHeads, _id: headId(orgId, seq) })),
    );
  } catch (err) {
    throw storageFailure(err);
  }
}

/** Replaces a head's cosignature lines (the caller merges them with those it had). */
export async function setCosignatures(
  store: Store,
  orgId: string,
  seq: number,
  lines: string[],
): Promise<void> {
  try {
    await guarded(
      store.update({
        index: INTERNAL.treeHeads,
        id: headId(orgId, seq),
        body: { doc: { cosignatures: lines } },
      }),
    );
  } catch (err) {
    throw storageFailure(err);
  }
}

/** Makes every tree head written so far searchable. */
export async function refreshTreeHeads(store: Store): Promise<void> {
  try {
    await guarded(store.indices.refresh({ index: INTERNAL.treeHeads }));
  } catch (err) {
    throw storageFailure(err);
  }
}

/** The orgs with a tree head signed at or after `since` (every org with a tree when undefined). */
export async function orgsWithHeadsSince(store: Store, since?: string): Promise<string[]> {
  try {
    const query = since ? { range: { signedAt: { gte: since } } } : { match_all: {} };
    const buckets = await allBuckets<{ key: { orgId: string } }>(store, INTERNAL.treeHeads, 'orgId', query);
    return buckets.map((b) => b.key.orgId);
  } catch (err) {
    throw storageFailure(err);
  }
}

/**
 * The org's newest tree head: search finds it up to the refresh lag, realtime GETs of the following seqs then
 * catch any written since (as newestSeal does for seals).
 */
export async function newestTreeHead(store: Store, orgId: string): Promise<TreeHead | undefined> {
  try {
    const res = await store.search({
      index: INTERNAL.treeHeads,
      body: { size: 1, query: { term: { orgId } }, sort: [{ seq: 'desc' }], _source: false },
    });
    // Read again by id (realtime): the search's copy may lack cosignatures added since the last refresh.
    const seq = (res.body as { hits: { hits: { sort: number[] }[] } }).hits.hits[0]?.sort[0];
    let head = seq === undefined ? undefined : await getTreeHead(store, orgId, seq);
    for (;;) {
      const next = await getTreeHead(store, orgId, (head?.seq ?? 0) + 1);
      if (!next) return head;
      head = next;
    }
  } catch (err) {
    throw storageFailure(err);
  }
}

/** The org's head of exactly `size` leaves, if one was signed (refreshed once when search misses it). */
export async function treeHeadOfSize(
  store: Store,
  orgId: string,
  size: number,
): Promise<TreeHead | undefined> {
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      const res = await guarded(
        store.search({
          index: INTERNAL.treeHeads,
          body: { size: 1, query: { bool: { filter: [{ term: { orgId } }, { term: { size } }] } } },
        }),
      );
      const hit = (res.body as { hits: { hits: { _source: TreeHead }[] } }).hits.hits[0];
      if (hit) return hit._source;
      if (attempt === 0) await guarded(store.indices.refresh({ index: INTERNAL.treeHeads }));
    }
    return undefined;
  } catch (err) {
    throw storageFailure(err);
  }
}

/** The org's `n` newest tree heads that search finds, newest first (cosignatures as last refreshed). */
export async function recentTreeHeads(store: Store, orgId: string, n: number): Promise<TreeHead[]> {
  try {
    const res = await store.search({
      index: INTERNAL.treeHeads,
      body: { size: n, query: { term: { orgId } }, sort: [{ seq: 'desc' }] },
    });
    return (res.body as { hits: { hits: { _source: TreeHead }[] } }).hits.hits.map((h) => h._source);
  } catch (err) {
    throw storageFailure(err);
  }
}
