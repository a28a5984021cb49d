/**
 * An org's append-only Merkle tree (RFC 9162 §2.1): tree hashes, inclusion and consistency proofs, and their
 * verification, over stored nodes. Node (level, index) is the hash of the complete subtree over leaves
 * [index·2^level, (index+1)·2^level); only complete subtrees are stored (tiles.ts), so every hash a proof
 * needs is a fold of O(log n) of them.
 *
 * Proofs are made in two passes with the same code: the first records which nodes it asks for (the answers do
 * not steer the walk), the caller fetches exactly those, the second computes with them.
 */
import { NODE_PREFIX, sha256 } from './leaf.ts';
import { InvariantViolation } from '../errors.ts';

export type NodeId = { level: number; index: number };
/** Answers a stored node; throws when it is not stored (a tree smaller than asked, or lost tiles). */
export type NodeSource = (level: number, index: number) => Buffer;

const NODE = Buffer.from([NODE_PREFIX]);
const ZERO = Buffer.alloc(32);

export const nodeHash = (left: Buffer, right: Buffer): Buffer => sha256(NODE, left, right);

/** Largest power of two strictly smaller than n (n ≥ 2): where RFC 6962 splits a tree of n leaves. */
export function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** The complete subtrees that make up leaves [lo, hi), largest first; lo must be aligned as proofs keep it. */
export function rangeNodes(lo: number, hi: number): NodeId[] {
  const out: NodeId[] = [];
  while (lo < hi) {
    let level = 0;
    while (2 ** (level + 1) <= hi - lo) level++;
    const size = 2 ** level;
    if (lo % size !== 0) throw new InvariantViolation(`range [${lo}, ${hi}) is not aligned`);
    out.push({ level, index: lo / size });
    lo += size;
  }
  return out;
}

/** MTH(D[lo:hi]). */
function rangeHash(lo: number, hi: number, read: NodeSource): Buffer {
  const nodes = rangeNodes(lo, hi).map((n) => read(n.level, n.index));
  let h = nodes[nodes.length - 1]!;
  for (let i = nodes.length - 2; i >= 0; i--) h = nodeHash(nodes[i]!, h);
  return h;
}

/** The root of the tree of `size` leaves (size ≥ 1). */
export function treeRoot(size: number, read: NodeSource): Buffer {
  checkSize(size, 'size');
  return rangeHash(0, size, read);
}

/** PATH(m, D[0:size]) of RFC 9162 §2.1.3.1, leaf to root. */
export function inclusionProof(index: number, size: number, read: NodeSource): Buffer[] {
  checkSize(size, 'size');
  if (!Number.isSafeInteger(index) || index < 0 || index >= size)
    throw new RangeError(`leaf index ${index} is not in a tree of ${size}`);
  const path: Buffer[] = [];
  const walk = (m: number, lo: number, hi: number): void => {
    if (hi - lo === 1) return;
    const k = split(hi - lo);
    if (m < lo + k) {
      walk(m, lo, lo + k);
      path.push(rangeHash(lo + k, hi, read));
    } else {
      walk(m, lo + k, hi);
      path.push(rangeHash(lo, lo + k, read));
    }
  };
  walk(index, 0, size);
  return path;
}

/** PROOF(from, D[0:to]) of RFC 9162 §2.1.4.1; empty when from = to. */
export function consistencyProof(from: number, to: number, read: NodeSource): Buffer[] {
  checkSize(from, 'from');
  checkSize(to, 'to');
  if (from > to) throw new RangeError(`from (${from}) is larger than to (${to})`);
  const proof: Buffer[] = [];
  const sub = (m: number, lo: number, hi: number, whole: boolean): void => {
    if (m === hi - lo) {
      if (!whole) proof.push(rangeHash(lo, hi, read));
      return;
    }
    const k = split(hi - lo);
    if (m <= k) {
      sub(m, lo, lo + k, whole);
      proof.push(rangeHash(lo + k, hi, read));
    } else {
      sub(m - k, lo + k, hi, false);
      proof.push(rangeHash(lo, lo + k, read));
    }
  };
  sub(from, 0, to, true);
  return proof;
}

/** Which stored nodes `compute` reads: run it once against a recorder (see the file's comment). */
export function nodesNeeded(compute: (read: NodeSource) => unknown): NodeId[] {
  const seen = new Map<string, NodeId>();
  compute((level, index) => {
    seen.set(`${level}/${index}`, { level, index });
    return ZERO;
  });
  return [...seen.values()];
}

/**
 * RFC 9162 §2.1.4.2: true when `proof` shows that the tree of `from` leaves with root `fromRoot` is a prefix
 * of the tree of `to` leaves with root `toRoot`.
 */
export function verifyConsistency(
  from: number,
  to: number,
  proof: Buffer[],
  fromRoot: Buffer,
  toRoot: Buffer,
): boolean {
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 1 || from > to) return false;
  if (from === to) return proof.length === 0 && fromRoot.equals(toRoot);
  if (proof.length === 0) return false;
  const path = isPowerOfTwo(from) ? [fromRoot, ...proof] : [...proof];
  let fn = from - 1;
  let sn = to - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && fr.equals(fromRoot) && sr.equals(toRoot);
}

function isPowerOfTwo(n: number): boolean {
  let k = 1;
  while (k < n) k *= 2;
  return k === n;
}

function checkSize(n: number, name: string): void {
  if (!Number.isSafeInteger(n) || n < 1)
    throw new RangeError(`${name} must be a whole number ≥ 1 (got ${n})`);
}
