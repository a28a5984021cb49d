/** Where an org's entries are sealed, and how many are not yet (the seals themselves: src/store/seal-store.ts). */
import type { Store } from '../store/client.ts';
import { countPending, type LedgerDoc } from '../store/ledger-store.ts';
import { getSeal, newestSeal, refreshSeals, walkSealsSpanning } from '../store/seal-store.ts';
import { unpackSeal, type Seal } from '../store/seal-doc.ts';
import { atOrBefore } from './ledger.ts';

// Reading the seals is the store's; re-exported for the domain's readers.
export {
  getSeal,
  getSealHead,
  iterateSeals,
  newestSeal,
  sealCursors,
  SEAL_LISTS,
} from '../store/seal-store.ts';

/**
 * Where a ledger entry is sealed: its seal and leaf; 'pending' while no seal is due to hold it; 'missing'
 * when one should (a late-seal mark pointing at a seal that does not list it, or an entry behind the walk's
 * cursor that no seal lists).
 */
export async function locateEntry(
  store: Store,
  entry: LedgerDoc,
): Promise<{ seal: Seal; leaf: number } | 'pending' | 'missing'> {
  if (entry.seal) {
    const seal = await getSeal(store, entry.orgId, entry.seal.seq);
    return seal?.eventIds[entry.seal.leaf] === entry.eventId ? { seal, leaf: entry.seal.leaf } : 'missing';
  }
  if (entry.waiting) return 'pending';
  // A walk seal spans its entries' acceptance times: looked for first, as nearly every entry asked for is sealed.
  const find = async () => {
    for (const doc of await walkSealsSpanning(store, entry.orgId, entry.acceptedAt)) {
      const leaf = doc.eventIds.indexOf(entry.eventId);
      if (leaf >= 0) return { seal: unpackSeal(doc), leaf };
    }
    return undefined;
  };
  const found = await find();
  if (found) return found;
  const head = await newestSeal(store, entry.orgId);
  if (!head || !atOrBefore(entry, head.cursor)) return 'pending';
  // Seals newer than the last refresh need one more look.
  await refreshSeals(store);
  return (await find()) ?? 'missing';
}

/** How many of the org's ledger entries no seal holds yet (refreshed first: exact at that moment). */
export async function unsealedCount(store: Store, orgId: string): Promise<number> {
  await refreshSeals(store);
  return countPending(store, orgId, (await newestSeal(store, orgId))?.cursor);
}
