/**
 * How an org's tree is stored: in tiles of height 8, as C2SP tlog-tiles lays them out. Tile (level T, index N)
 * holds up to 256 consecutive stored nodes of tree level 8·T, nodes N·256 … N·256+255; level-0 tiles hold the
 * leaves. A node of a level in between is hashed up from the tile below it (at most 255 hashes), so a proof
 * reads a few tiles and the store keeps about 32 bytes per leaf plus 1/256 of that per level above.
 *
 * Only the rightmost tile of each level is partial; appending rewrites it with the same leading hashes, so a
 * repeated or interrupted append writes the same bytes again.
 */
import { merkleRootOf } from './merkle.ts';
import type { NodeId, NodeSource } from './tree.ts';
import { InvariantViolation } from '../errors.ts';

export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 2 ** TILE_HEIGHT;

export type TileId = { level: number; index: number };
/** A tile's hashes in a row, 32 bytes each (its width is hashes.length / 32). */
export type Tile = TileId & { hashes: Buffer };

export const tileKey = (t: TileId) => `${t.level}/${t.index}`;

/** The tile a node lies in, and which of its hashes make the node. */
function placeOf(node: NodeId): { tile: TileId; from: number; count: number } {
  const level = Math.floor(node.level / TILE_HEIGHT);
  const count = 2 ** (node.level - level * TILE_HEIGHT);
  const first = node.index * count;
  return { tile: { level, index: Math.floor(first / TILE_WIDTH) }, from: first % TILE_WIDTH, count };
}

/** The tiles that hold the given nodes, each once. */
export function tilesHolding(nodes: NodeId[]): TileId[] {
  const out = new Map<string, TileId>();
  for (const n of nodes) {
    const { tile } = placeOf(n);
    out.set(tileKey(tile), tile);
  }
  return [...out.values()];
}

/** A NodeSource over fetched tiles (keyed by tileKey). */
export function nodesFromTiles(tiles: Map<string, Buffer>): NodeSource {
  return (level, index) => {
    const { tile, from, count } = placeOf({ level, index });
    const hashes = tiles.get(tileKey(tile));
    if (!hashes || hashes.length < (from + count) * 32)
      throw new InvariantViolation(`tree node ${level}/${index} is not stored (tile ${tileKey(tile)})`);
    const run = hashes.subarray(from * 32, (from + count) * 32);
    return count === 1 ? Buffer.from(run) : merkleRootOf(run);
  };
}

/** The partial tiles on the right edge of a tree of `size` leaves: what appending to it reads. */
export function edgeTiles(size: number): TileId[] {
  const out: TileId[] = [];
  for (let level = 0, count = size; count > 0; level++, count = Math.floor(count / TILE_WIDTH))
    if (count % TILE_WIDTH !== 0) out.push({ level, index: Math.floor(count / TILE_WIDTH) });
  return out;
}

/**
 * The tiles that change when `leaves` (32 bytes each, in a row) are appended to a tree of `size` leaves, given
 * its edge tiles (edgeTiles(size), keyed by tileKey; a tile longer than the tree, left by an interrupted
 * append, is cut back). Full tiles of a level become the nodes appended to the level above.
 */
export function appendToTiles(size: number, leaves: Buffer, edge: Map<string, Buffer>): Tile[] {
  if (leaves.length % 32 !== 0) throw new InvariantViolation('leaves must be 32 bytes each');
  const changed: Tile[] = [];
  let values: Buffer = leaves;
  for (let level = 0; values.length > 0; level++) {
    let at = Math.floor(size / TILE_WIDTH ** level);
    const full: Buffer[] = [];
    for (let off = 0; off < values.length;) {
      const index = Math.floor(at / TILE_WIDTH);
      const start = at % TILE_WIDTH;
      const take = Math.min(TILE_WIDTH - start, (values.length - off) / 32);
      let head: Buffer = Buffer.alloc(0);
      if (start > 0) {
        const stored = edge.get(tileKey({ level, index }));
        if (!stored || stored.length < start * 32)
          throw new InvariantViolation(
            `tile ${level}/${index} is shorter than the tree of ${size} leaves needs`,
          );
        head = stored.subarray(0, start * 32);
      }
      const hashes = Buffer.concat([head, values.subarray(off, off + take * 32)]);
      changed.push({ level, index, hashes });
      if (start + take === TILE_WIDTH) full.push(merkleRootOf(hashes));
      at += take;
      off += take * 32;
    }
    values = Buffer.concat(full);
  }
  return changed;
}
