/**
 * One append-only RFC 6962 tree per org: its leaves are the org's sealed leaves in seal order (seal 1's in leaf
 * order, then seal 2's …), so each seal appends its batch and ends in a tree head whose checkpoint (a C2SP
 * signed note, note.ts) the log signs. Orgs sealed before the tree existed get theirs the same way, seal by
 * seal from the first. The tree is derived from the seals: a head is written only after its tiles, a repeated
 * extension rewrites the same bytes, and a seal that does not verify stops the tree before it.
 */
import { IntegrityBroken } from '../errors.ts';
import type { Store } from '../store/client.ts';
import { getSealLeaves, sealLeavesAfter, type SealLeaves } from '../store/seal-store.ts';
import {
  createTreeHeads,
  getTiles,
  getTreeHead,
  newestTreeHead,
  putTiles,
  type StoredTile,
  type TreeHead,
} from '../store/tile-store.ts';
import { sealSignedInWindow, type Checkpoint } from './checkpoint.ts';
import type { Keyring, KeySource } from './keyring.ts';
import { merkleRootOf } from './merkle.ts';
import {
  addSignatureLines,
  checkpointText,
  noteKeyId,
  signNote,
  splitNote,
  verifierKey,
  verifyNote,
  ED25519,
  type NoteSigner,
} from './note.ts';
import type { PublicKeyInfo, SigningKey } from './signing.ts';
import { appendToTiles, edgeTiles, nodesFromTiles, tileKey, tilesHolding } from './tiles.ts';
import { consistencyProof, inclusionProof, nodesNeeded, treeRoot, type NodeSource } from './tree.ts';

export type { TreeHead } from '../store/tile-store.ts';

/** The log's name for an org: the checkpoint's origin line and its key name. */
export const logName = (origin: string, orgId: string) => `${origin}/${orgId}`;

export function logSigner(key: SigningKey, origin: string, orgId: string): NoteSigner {
  return { name: logName(origin, orgId), privateKey: key.privateKey, publicKey: key.publicKey };
}

/** The org log's verifier key under `key` (c2sp.org/signed-note). */
export const logVerifierKey = (key: PublicKeyInfo, origin: string, orgId: string) =>
  verifierKey(logName(origin, orgId), key.publicKey);

/**
 * A head's checkpoint as served: its note, signed too by every key valid now that has not signed it yet (after a
 * rotation, an old checkpoint carries the new key's signature; Ed25519 signs the same bytes the same way), and
 * the witnesses' cosignatures it has gathered, which cover the text and so stay valid. Only a note that is the
 * head's own checkpoint, signed by a key valid when the head was signed, gets the new signatures: a head written
 * into the database by hand is served as it is, never blessed.
 */
export function servedNote(head: TreeHead, keys: KeySource, origin: string): string {
  const name = logName(origin, head.orgId);
  const stored = addSignatureLines(head.note, head.cosignatures ?? []);
  const genuine = (ring: Keyring) => {
    try {
      const { text } = splitNote(head.note);
      if (text !== checkpointText(name, head.size, Buffer.from(head.root, 'base64'))) return false;
      return ring.keys.some(
        (k) =>
          ring.validKey(k.keyId, head.signedAt) !== undefined &&
          verifyNote(head.note, [logVerifier(name, k)]).valid.has(name),
      );
    } catch {
      return false;
    }
  };
  if (!genuine(keys.get()) && !genuine(keys.get(true))) return stored;
  const { text } = splitNote(head.note);
  const signers = keys
    .get()
    .signers(new Date().toISOString())
    .map((k) => logSigner(k, origin, head.orgId));
  const fresh = signNote(text, signers)
    .slice(text.length + 1)
    .split('\n');
  return addSignatureLines(stored, fresh);
}

/** The note verifier of the org log `name` under `key`. */
export const logVerifier = (name: string, key: PublicKeyInfo) => ({
  name,
  keyId: noteKeyId(name, ED25519, key.publicKey),
  type: ED25519,
  publicKey: key.publicKey,
});

/**
 * Whether a key of the ring signed the seal in its window; a seal by a key this instance does not know yet (a
 * rotation another instance saw first) is looked at again with the ring re-read from disk.
 */
export const signedInWindow = (seal: Checkpoint, keys: KeySource) =>
  sealSignedInWindow(seal, keys.get()) || sealSignedInWindow(seal, keys.get(true));

/** Seals read per page while extending: a seal carries up to 10,000 leaves. */
const SEALS_PER_PAGE = 10;

/**
 * Appends the org's seals that its tree does not hold yet, at most `maxSeals` of them, signing a checkpoint
 * after each; returns the newest head and whether the tree holds every seal now. Safe to repeat and to
 * interrupt (see the file's comment). The tiles and heads of up to SEALS_PER_PAGE seals are written together,
 * tiles first: two requests, not two per seal (a tile rewritten by several seals is written once, as it ends).
 */
export async function extendOrgTree(
  store: Store,
  keys: KeySource,
  origin: string,
  orgId: string,
  maxSeals = Infinity,
  made?: ReadonlyMap<number, SealLeaves>,
): Promise<{ head: TreeHead | undefined; complete: boolean }> {
  let head = await newestTreeHead(store, orgId);
  let size = head?.size ?? 0;
  let seq = head?.seq ?? 0;
  // The tiles this extension has computed or read, so the next seal's edge comes from memory.
  const known = new Map<string, Buffer>();
  const tiles = new Map<string, StoredTile>();
  let heads: TreeHead[] = [];
  const flush = async () => {
    if (heads.length === 0) return;
    await putTiles(store, orgId, [...tiles.values()]);
    tiles.clear();
    const created = await createTreeHeads(store, heads);
    for (const [k, next] of heads.entries()) {
      head = next;
      if (created[k]) continue;
      // An interrupted extension signed this seal's head already; it must say the same.
      const stored = await getTreeHead(store, orgId, next.seq);
      if (stored?.root !== next.root || stored.size !== next.size)
        throw new IntegrityBroken(
          `org ${orgId}: the stored tree head of seal ${next.seq} disagrees with its seals`,
        );
      head = stored;
    }
    heads = [];
  };
  let appended = 0;
  for await (const seal of sealsAfter(store, orgId, seq, made)) {
    if (appended === maxSeals) {
      await flush();
      return { head, complete: false };
    }
    appended += 1;
    if (seal.seq !== seq + 1) throw new IntegrityBroken(`org ${orgId}: seal ${seq + 1} is missing`);
    const leaves = seal.packed;
    // A seal this process made from these very leaves was not read back: nothing could have changed it.
    if (
      made?.get(seal.seq) !== seal &&
      (leaves.length !== 32 * seal.count ||
        merkleRootOf(leaves).toString('hex') !== seal.root ||
        !signedInWindow(seal, keys))
    ) {
      await flush();
      throw new IntegrityBroken(`org ${orgId}: seal ${seal.seq} does not verify; its tree stops at ${size}`);
    }

    const missing = edgeTiles(size).filter((t) => !known.has(tileKey(t)));
    for (const [k, v] of await getTiles(store, orgId, missing)) known.set(k, v);
    for (const t of appendToTiles(size, leaves, known)) {
      known.set(tileKey(t), t.hashes);
      tiles.set(tileKey(t), t);
    }
    size += seal.count;
    seq = seal.seq;

    const root = await withNodes(store, orgId, (read) => treeRoot(size, read), known);
    // The ring of this very moment, for each head: a rotation during a long extension is followed.
    const signedAt = new Date().toISOString();
    const signers = keys.get().signers(signedAt);
    heads.push({
      orgId,
      seq,
      size,
      root: root.toString('base64'),
      note: signNote(
        checkpointText(logName(origin, orgId), size, root),
        signers.map((k) => logSigner(k, origin, orgId)),
      ),
      keyId: noteKeyId(logName(origin, orgId), ED25519, signers[0]!.publicKey).toString(16).padStart(8, '0'),
      signedAt,
      cosignatures: [],
    });
    if (heads.length === SEALS_PER_PAGE) await flush();
  }
  await flush();
  return { head, complete: true };
}

/**
 * The org's seals after `seq` in order: those `made` holds (a round's own seals), else those search finds, then
 * those written since its last refresh, by realtime GET of the next seq (as newestSeal does), so a tree never
 * lags behind a seal just made.
 */
async function* sealsAfter(
  store: Store,
  orgId: string,
  seq: number,
  made?: ReadonlyMap<number, SealLeaves>,
): AsyncGenerator<SealLeaves> {
  if (!made?.has(seq + 1))
    for await (const seal of sealLeavesAfter(store, orgId, seq, SEALS_PER_PAGE)) {
      if (seal.seq !== seq + 1) break;
      seq = seal.seq;
      yield seal;
    }
  const next = async () => made?.get(seq + 1) ?? (await getSealLeaves(store, orgId, seq + 1));
  for (let seal = await next(); seal; seal = await next()) {
    seq = seal.seq;
    yield seal;
  }
}

/** Runs `compute` over the stored nodes it needs, reading only the tiles that hold them (and not in `known`). */
async function withNodes<T>(
  store: Store,
  orgId: string,
  compute: (read: NodeSource) => T,
  known = new Map<string, Buffer>(),
): Promise<T> {
  const wanted = tilesHolding(nodesNeeded(compute));
  const tiles = new Map([...known].filter(([k]) => wanted.some((t) => tileKey(t) === k)));
  for (const [k, v] of await getTiles(
    store,
    orgId,
    wanted.filter((t) => !tiles.has(tileKey(t))),
  ))
    tiles.set(k, v);
  return compute(nodesFromTiles(tiles));
}

/** The audit path of leaf `index` in the org's tree of `size` leaves. */
export const proveInclusion = (store: Store, orgId: string, index: number, size: number) =>
  withNodes(store, orgId, (read) => inclusionProof(index, size, read));

/** The consistency proof from the org's tree of `from` leaves to that of `to`. */
export const proveConsistency = (store: Store, orgId: string, from: number, to: number) =>
  withNodes(store, orgId, (read) => consistencyProof(from, to, read));
