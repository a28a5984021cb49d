import { expect } from 'chai';
import { merkleRoot, auditPath } from '../../src/integrity/merkle.ts';
import { sha256 } from '../../src/integrity/leaf.ts';
import {
  consistencyProof,
  inclusionProof,
  nodesNeeded,
  treeRoot,
  verifyConsistency,
  type NodeSource,
} from '../../src/integrity/tree.ts';
import {
  appendToTiles,
  edgeTiles,
  nodesFromTiles,
  tileKey,
  tilesHolding,
} from '../../src/integrity/tiles.ts';
import { independentCheck, type IndependentCheck } from '../independent/tlogcheck.ts';

const leafHex = (i: number) => sha256(`leaf ${i}`).toString('hex');
const b64 = (b: Buffer) => b.toString('base64');

/** A tree grown through tiles in batches of the given sizes, as the sealer grows an org's tree. */
function grow(batches: number[]): { size: number; tiles: Map<string, Buffer>; leaves: string[] } {
  const tiles = new Map<string, Buffer>();
  const leaves: string[] = [];
  let size = 0;
  for (const n of batches) {
    const batch = Array.from({ length: n }, (_, k) => leafHex(size + k));
    const edge = new Map(edgeTiles(size).map((t) => [tileKey(t), tiles.get(tileKey(t))!]));
    for (const t of appendToTiles(size, Buffer.from(batch.join(''), 'hex'), edge))
      tiles.set(tileKey(t), t.hashes);
    leaves.push(...batch);
    size += n;
  }
  return { size, tiles, leaves };
}

/** Reads only the tiles a computation asks for, as the store does: proves the two-pass plan is complete. */
function planned<T>(tiles: Map<string, Buffer>, compute: (read: NodeSource) => T): T {
  const wanted = tilesHolding(nodesNeeded(compute));
  const fetched = new Map<string, Buffer>();
  for (const t of wanted) if (tiles.has(tileKey(t))) fetched.set(tileKey(t), tiles.get(tileKey(t))!);
  return compute(nodesFromTiles(fetched));
}

describe('integrity: the org tree (RFC 9162 over tiles)', () => {
  it('gives the same root as the whole-list Merkle tree, however the leaves arrived', () => {
    for (const batches of [[1], [3, 4], [255, 1, 1], [256, 256, 1], [100, 300, 7, 1000], [70_000]]) {
      const { size, tiles, leaves } = grow(batches);
      expect(planned(tiles, (r) => treeRoot(size, r)).toString('hex'), `batches ${batches}`).to.equal(
        merkleRoot(leaves),
      );
    }
  });

  it('stores about 32 bytes of hashes per leaf', () => {
    const { tiles, size } = grow([70_000]);
    const bytes = [...tiles.values()].reduce((n, b) => n + b.length, 0);
    expect(bytes / size).to.be.within(32, 32.2);
  });

  it('proves inclusion with the audit path RFC 6962 defines, for every leaf of small trees', () => {
    for (const n of [1, 2, 3, 5, 8, 13, 257]) {
      const { tiles, leaves } = grow([n]);
      for (let i = 0; i < n; i += n > 20 ? 17 : 1) {
        const path = planned(tiles, (r) => inclusionProof(i, n, r)).map((b) => b.toString('hex'));
        expect(path, `leaf ${i} of ${n}`).to.deep.equal(auditPath(leaves, i));
      }
    }
  });

  it('proves consistency between any two sizes, and refuses a proof against a changed history', () => {
    const { tiles, leaves } = grow([600]);
    const rootAt = (n: number) => Buffer.from(merkleRoot(leaves.slice(0, n)), 'hex');
    for (const [m, n] of [
      [1, 1],
      [1, 2],
      [3, 7],
      [4, 8],
      [6, 600],
      [256, 600],
      [257, 600],
      [599, 600],
    ] as const) {
      const proof = planned(tiles, (r) => consistencyProof(m, n, r));
      expect(verifyConsistency(m, n, proof, rootAt(m), rootAt(n)), `${m} → ${n}`).to.equal(true);
      const forged = [...leaves.slice(0, n)];
      forged[0] = leafHex(9999);
      const forgedRoot = Buffer.from(merkleRoot(forged), 'hex');
      expect(verifyConsistency(m, n, proof, rootAt(m), forgedRoot), `forged ${m} → ${n}`).to.equal(false);
    }
  });

  it('writes the same tiles again when an append is repeated after an interruption', () => {
    const { tiles, size } = grow([300]);
    const more = Buffer.from(Array.from({ length: 10 }, (_, k) => leafHex(300 + k)).join(''), 'hex');
    const edge = new Map(edgeTiles(size).map((t) => [tileKey(t), tiles.get(tileKey(t))!]));
    const once = appendToTiles(size, more, edge);
    // The interrupted attempt left the edge tile longer than the tree; the retry cuts it back and agrees.
    const longer = new Map(once.map((t) => [tileKey(t), t.hashes]));
    expect(appendToTiles(size, more, longer)).to.deep.equal(once);
  });

  it('is accepted by an independent implementation (Go sumdb/tlog)', function () {
    this.timeout(120_000);
    const { tiles, leaves } = grow([1000]);
    const rootAt = (n: number) => b64(Buffer.from(merkleRoot(leaves.slice(0, n)), 'hex'));
    const checks: IndependentCheck[] = [];
    for (const [i, n] of [
      [0, 1],
      [5, 6],
      [17, 1000],
      [999, 1000],
      [256, 257],
    ] as const)
      checks.push({
        kind: 'inclusion',
        size: n,
        root: rootAt(n),
        index: i,
        leaf: b64(Buffer.from(leaves[i]!, 'hex')),
        proof: planned(tiles, (r) => inclusionProof(i, n, r)).map(b64),
      });
    for (const [m, n] of [
      [1, 1000],
      [7, 8],
      [300, 1000],
      [1000, 1000],
    ] as const)
      checks.push({
        kind: 'consistency',
        from: m,
        to: n,
        fromRoot: rootAt(m),
        toRoot: rootAt(n),
        proof: planned(tiles, (r) => consistencyProof(m, n, r)).map(b64),
      });
    const good = independentCheck(checks);
    expect(good.lines.filter((l) => !l.endsWith(' ok'))).to.deep.equal([]);
    expect(good.ok).to.equal(true);
    // And it is a real check: a wrong root fails there too.
    const bad = independentCheck([
      { ...(checks[2] as IndependentCheck & { kind: 'inclusion' }), root: rootAt(999) },
    ]);
    expect(bad.ok).to.equal(false);
  });
});
