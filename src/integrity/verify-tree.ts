/**
 * Step 5 of `npm run verify`: the org tree. Every stored tree head must be the tree of all the org's sealed
 * leaves up to its seal (recomputed here from the seals, leaf by leaf, keeping only the O(log n) complete
 * subtrees on the right edge), and its checkpoint note must say so, signed by the log key. A head the sealer
 * has not written yet is no finding; a head that disagrees with the seals is a rewritten tree.
 */
import type { Store } from '../store/client.ts';
import { getTreeHeads, type TreeHead } from '../store/tree.ts';
import type { Problem } from './chain.ts';
import { checkpointText, noteKeyId, verifyNote, ED25519 } from './note.ts';
import { logName } from './org-tree.ts';
import { iterateSeals } from './seals.ts';
import type { PublicKeyInfo } from './signing.ts';
import { nodeHash } from './tree.ts';

/** The right edge of a growing tree: complete subtrees, largest first, with their sizes. */
class Frontier {
  private readonly hashes: Buffer[] = [];
  private readonly sizes: number[] = [];
  size = 0;

  push(leaf: Buffer): void {
    let h = leaf;
    let n = 1;
    while (this.sizes.length && this.sizes[this.sizes.length - 1] === n) {
      h = nodeHash(this.hashes.pop()!, h);
      n += this.sizes.pop()!;
    }
    this.hashes.push(h);
    this.sizes.push(n);
    this.size += 1;
  }

  root(): Buffer {
    let h = this.hashes[this.hashes.length - 1]!;
    for (let i = this.hashes.length - 2; i >= 0; i--) h = nodeHash(this.hashes[i]!, h);
    return h;
  }
}

export async function checkTree(
  store: Store,
  orgId: string,
  key: PublicKeyInfo,
  origin: string,
  problems: Problem[],
): Promise<number> {
  const name = logName(origin, orgId);
  const verifier = {
    name,
    keyId: noteKeyId(name, ED25519, key.publicKey),
    type: ED25519,
    publicKey: key.publicKey,
  };
  const frontier = new Frontier();
  let checked = 0;
  const check = (seq: number, head: TreeHead) => {
    const root = frontier.root();
    const add = (kind: Problem['kind'], message: string) => problems.push({ kind, orgId, seq, message });
    if (head.size !== frontier.size || head.root !== root.toString('base64'))
      return add(
        'tree-head-mismatch',
        `the tree head of seal ${seq} says size ${head.size}, root ${head.root}; the seals give size ${frontier.size}, root ${root.toString('base64')}: the tree was rewritten`,
      );
    let signed = false;
    try {
      const { text, valid } = verifyNote(head.note, [verifier]);
      signed = valid.has(name) && text === checkpointText(name, frontier.size, root);
    } catch {
      signed = false;
    }
    if (!signed)
      add(
        'tree-head-bad-signature',
        `the checkpoint of seal ${seq} (size ${head.size}) is not signed by ${name} as it is`,
      );
    checked += 1;
  };
  let page: { seq: number; leaves: string[] }[] = [];
  const flush = async () => {
    const heads = await getTreeHeads(
      store,
      orgId,
      page.map((s) => s.seq),
    );
    page.forEach((s, k) => {
      for (const leaf of s.leaves) frontier.push(Buffer.from(leaf, 'hex'));
      const head = heads[k];
      if (head) check(s.seq, head);
    });
    page = [];
  };
  for await (const seal of iterateSeals(store, orgId, { withLists: true, pageSize: 20 })) {
    page.push({ seq: seal.seq, leaves: seal.leaves });
    if (page.length === 20) await flush();
  }
  await flush();
  return checked;
}
