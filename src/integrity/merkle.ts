/**
 * Merkle tree hash, audit paths and their verification exactly as RFC 6962 §2.1 / RFC 9162 §2.1 define them
 * (unbalanced trees split at the largest power of two smaller than the size; no duplicated last leaf). The
 * leaves given here are already leaf hashes (leaf.ts); inner nodes are SHA-256(0x01 ‖ left ‖ right).
 */
import { NODE_PREFIX, sha256Into } from './leaf.ts';
import { InvariantViolation } from '../errors.ts';
import { nodeHash, split } from './tree.ts';

function subtreeHash(leaves: Buffer[], from: number, to: number): Buffer {
  const n = to - from;
  if (n === 1) return leaves[from]!;
  const k = split(n);
  return nodeHash(subtreeHash(leaves, from, from + k), subtreeHash(leaves, from + k, to));
}

const toBuffers = (hex: string[]) => hex.map((h) => Buffer.from(h, 'hex'));

/** Hex root of a non-empty list of hex leaf hashes. */
export function merkleRoot(leaves: string[]): string {
  return merkleRootOf(packLeaves(leaves)).toString('hex');
}

/** Hex leaf hashes packed in a row, 32 bytes each; throws naming a leaf that is not 64 hex (by its id if given). */
export function packLeaves(leaves: string[], ids?: string[]): Buffer {
  const packed = Buffer.allocUnsafe(leaves.length * 32);
  leaves.forEach((l, k) => {
    if (packed.write(l, k * 32, 'hex') !== 32 || l.length !== 64)
      throw new InvariantViolation(`leaf ${ids ? `of ${ids[k]}` : k} is not 64 hex characters`);
  });
  return packed;
}

/**
 * Root of the leaf hashes packed in a row (32 bytes each), level by level: pairs are hashed left to right and
 * a last node without a partner moves up unchanged, which gives the same tree as splitting at the largest
 * power of two. One scratch buffer and one hash call per inner node, written into place (sha256Into).
 */
export function merkleRootOf(packed: Buffer): Buffer {
  let n = packed.length / 32;
  if (n === 0 || !Number.isInteger(n))
    throw new InvariantViolation('a Merkle tree needs at least one 32-byte leaf');
  const level = Buffer.from(packed); // overwritten in place: node i of a level goes where its left child was read
  const pair = Buffer.allocUnsafe(65);
  pair[0] = NODE_PREFIX;
  while (n > 1) {
    const pairs = Math.floor(n / 2);
    for (let i = 0; i < pairs; i++) {
      level.copy(pair, 1, i * 64, i * 64 + 64);
      sha256Into(pair, level, i * 32);
    }
    if (n % 2 === 1) level.copy(level, pairs * 32, (n - 1) * 32, n * 32);
    n = pairs + (n % 2);
  }
  return level.subarray(0, 32);
}

/** The audit path (sibling hashes, leaf to root) of leaf `index`: RFC 6962 PATH(m, D[n]). */
export function auditPath(leaves: string[], index: number): string[] {
  if (!Number.isInteger(index) || index < 0 || index >= leaves.length)
    throw new InvariantViolation(`leaf index ${index} out of range`);
  const bufs = toBuffers(leaves);
  const path: Buffer[] = [];
  const walk = (m: number, from: number, to: number): void => {
    const n = to - from;
    if (n === 1) return;
    const k = split(n);
    if (m < k) {
      walk(m, from, from + k);
      path.push(subtreeHash(bufs, from + k, to));
    } else {
      walk(m - k, from + k, to);
      path.push(subtreeHash(bufs, from, from + k));
    }
  };
  walk(index, 0, leaves.length);
  return path.map((b) => b.toString('hex'));
}

/** The root an audit path leads to (RFC 9162 §2.1.3.2), or undefined when the path cannot fit the tree. */
export function rootFromAuditPath(
  leaf: string,
  index: number,
  treeSize: number,
  path: string[],
): string | undefined {
  if (!Number.isInteger(index) || !Number.isInteger(treeSize) || index < 0 || index >= treeSize)
    return undefined;
  let fn = index;
  let sn = treeSize - 1;
  let r: Buffer = Buffer.from(leaf, 'hex');
  for (const hex of path) {
    if (sn === 0) return undefined;
    const p = Buffer.from(hex, 'hex');
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r.toString('hex') : undefined;
}

/** True when `path` proves that `leaf` sits at `index` of the tree of `treeSize` leaves with `root`. */
export function verifyInclusion(
  leaf: string,
  index: number,
  treeSize: number,
  path: string[],
  root: string,
): boolean {
  return rootFromAuditPath(leaf, index, treeSize, path) === root.toLowerCase();
}
