/**
 * Step 5 of `npm run verify`: the org tree. Every stored tree head must be the tree of all the org's sealed
 * leaves up to its seal (recomputed here from the seals, leaf by leaf, keeping only the O(log n) complete
 * subtrees on the right edge), and its checkpoint note must say so, signed by a log key whose window holds the
 * head's `signedAt`. A head the sealer has not written yet is no finding; a head that disagrees with the seals
 * is a rewritten tree.
 */
import type { Store } from '../store/client.ts';
import { getTreeHeads, type TreeHead } from '../store/tile-store.ts';
import { windowOf, type Problem } from './chain.ts';
import type { Keyring } from './keyring.ts';
import { checkpointText, verifyNote } from './note.ts';
import { logName, logVerifier } from './org-tree.ts';
import { iterateSeals } from './seals.ts';
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

/** A checkpoint a witness cosigned for this org (witnessed.ts): the tree must pass through it. */
export interface Witnessed {
  witness: string;
  size: number;
  root: string;
}

export async function checkTree(
  store: Store,
  orgId: string,
  ring: Keyring,
  origin: string,
  problems: Problem[],
  witnessed: Witnessed[] = [],
): Promise<number> {
  const name = logName(origin, orgId);
  const verifiers = ring.keys.map((k) => ({ key: k, verifier: logVerifier(name, k) }));
  const frontier = new Frontier();
  let checked = 0;
  const check = (seq: number, head: TreeHead, sealedAt: string) => {
    const root = frontier.root();
    const add = (kind: Problem['kind'], message: string) => problems.push({ kind, orgId, seq, message });
    if (head.size !== frontier.size || head.root !== root.toString('base64'))
      return add(
        'tree-head-mismatch',
        `the tree head of seal ${seq} says size ${head.size}, root ${head.root}; the seals give size ${frontier.size}, root ${root.toString('base64')}: the tree was rewritten`,
      );
    // The keys that signed the note as it is; one whose window holds the head's signedAt must be among them.
    const signers = verifiers.filter(({ verifier }) => {
      try {
        const { text, valid } = verifyNote(head.note, [verifier]);
        return valid.has(name) && text === checkpointText(name, frontier.size, root);
      } catch {
        return false;
      }
    });
    if (!signers.length)
      add(
        'tree-head-bad-signature',
        `the checkpoint of seal ${seq} (size ${head.size}) is not signed by ${name} as it is`,
      );
    // signedAt is the head's own word, covered by no signature: never earlier than its seal was made.
    const signedAt = head.signedAt < sealedAt ? sealedAt : head.signedAt;
    if (signers.length && !signers.some(({ key }) => ring.validKey(key.keyId, signedAt)))
      add(
        'tree-head-key-outside-window',
        `the checkpoint of seal ${seq} (size ${head.size}) was signed at ${signedAt} only by ${signers
          .map(({ key }) => `key ${key.keyId}, valid ${windowOf(key)}`)
          .join('; ')}`,
      );
    checked += 1;
  };
  let page: { seq: number; leaves: string[]; sealedAt: string }[] = [];
  const flush = async () => {
    const heads = await getTreeHeads(
      store,
      orgId,
      page.map((s) => s.seq),
    );
    page.forEach((s, k) => {
      for (const leaf of s.leaves) frontier.push(Buffer.from(leaf, 'hex'));
      const head = heads[k];
      if (head) check(s.seq, head, s.sealedAt);
      for (const w of witnessed.filter((x) => x.size === frontier.size)) {
        seen.add(w);
        const root = frontier.root().toString('base64');
        if (root !== w.root)
          problems.push({
            kind: 'witness-fork',
            orgId,
            seq: s.seq,
            message: `witness ${w.witness} cosigned size ${w.size} with root ${w.root}; the seals now give root ${root} at that size: history was rewritten`,
          });
      }
    });
    page = [];
  };
  const seen = new Set<Witnessed>();
  for await (const seal of iterateSeals(store, orgId, { withLists: true, pageSize: 20 })) {
    page.push({ seq: seal.seq, leaves: seal.leaves, sealedAt: seal.sealedAt });
    if (page.length === 20) await flush();
  }
  await flush();
  for (const w of witnessed.filter((x) => !seen.has(x)))
    problems.push(
      w.size > frontier.size
        ? {
            kind: 'witness-rollback',
            orgId,
            message: `witness ${w.witness} cosigned size ${w.size}; the seals now give a tree of only ${frontier.size}: seals were removed`,
          }
        : {
            kind: 'witness-fork',
            orgId,
            message: `witness ${w.witness} cosigned size ${w.size}; no seal of the log ends at that size now: history was rewritten`,
          },
    );
  return checked;
}
