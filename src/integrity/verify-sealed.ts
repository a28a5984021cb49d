/**
 * Step 2 of verification (verify.ts): every sealed event — its ledger entry exists and agrees, the event exists
 * where the ledger says, and recomputing its leaf gives the sealed leaf (else: what changed, as far as can be
 * told); and no event is in two seals.
 */
import { toEntry, type StoredEvent } from '../events/schema.ts';
import type { Store } from '../store/client.ts';
import { findEventIndex, getEvents } from '../store/event-lookups.ts';
import { getEntries, type LedgerDoc } from '../store/ledger-store.ts';
import { short, type Problem } from './chain.ts';
import type { Checkpoint, Seal } from './checkpoint.ts';
import { leafHashOf, storedHashOf } from './leaf.ts';
import { merkleRoot } from './merkle.ts';
import { iterateSeals } from './seals.ts';

/** Events read per multi-get. */
const CHUNK = 1000;

/**
 * Step 2 for one seal; returns how many of its events are missing because their day is gone by retention
 * (`expired`, given the ledger's createdAt and day index): those are no finding.
 */
export async function checkSealedEvents(
  store: Store,
  seal: Seal,
  problems: Problem[],
  expired: (createdAt: string, index: string) => Promise<boolean> = async () => false,
): Promise<number> {
  let gone = 0;
  const { orgId, seq } = seal;
  const add = (p: Omit<Problem, 'orgId' | 'seq'>) => problems.push({ orgId, seq, ...p });
  const n = seal.count;
  const rootOfLeaves = () => {
    try {
      return merkleRoot(seal.leaves);
    } catch {
      return undefined; // a leaf that is not 32 bytes: edited
    }
  };
  if (
    seal.eventIds.length !== n ||
    seal.leaves.length !== n ||
    seal.storedHashes.length !== n ||
    rootOfLeaves() !== seal.root
  ) {
    add({
      kind: 'seal-lists-edited',
      message: `seal ${seq}: its lists of events and leaves do not hash to its root (edited)`,
    });
  }
  for (let from = 0; from < seal.eventIds.length; from += CHUNK) {
    const ids = seal.eventIds.slice(from, from + CHUNK);
    const ledger = await getEntries(store, orgId, ids);
    const where = await Promise.all(
      ids.map(async (id, k) => ledger[k]?.index ?? (await findEventIndex(store, orgId, id))),
    );
    // An event found nowhere (no ledger entry, no index holds it) is simply absent.
    const located = ids.flatMap((id, k) => (where[k] ? [{ k, index: where[k]!, orgId, eventId: id }] : []));
    const found = await getEvents(store, located);
    const events: (StoredEvent | undefined)[] = ids.map(() => undefined);
    located.forEach(({ k }, j) => (events[k] = found[j]));
    const goneByRetention = await Promise.all(
      ids.map((_, k) => {
        const entry = ledger[k];
        return !events[k] && entry ? expired(entry.createdAt, entry.index) : false;
      }),
    );
    ids.forEach((eventId, k) => {
      const leafIndex = from + k;
      const at = `seal ${seq} leaf ${leafIndex}`;
      const entry = ledger[k];
      if (!entry) {
        add({
          kind: 'ledger-missing',
          eventId,
          message: `event ${eventId} (${at}): its ledger entry is missing (deleted)`,
        });
      } else if (
        // A mark must name this seal and leaf; no mark is right for a walk seal, never for a late one.
        entry.seal ? entry.seal.seq !== seq || entry.seal.leaf !== leafIndex : seal.late === true
      ) {
        add({
          kind: 'ledger-mismatch',
          eventId,
          message:
            `event ${eventId} is listed in ${at}, but its ledger entry says ` +
            (entry.seal ? `seal ${entry.seal.seq} leaf ${entry.seal.leaf}` : 'it is in no late seal') +
            ' (sealed twice, or the ledger or seal was edited)',
        });
      }
      const ev = events[k];
      if (!ev && goneByRetention[k]) {
        gone += 1;
        return;
      }
      if (!ev) {
        add({
          kind: 'event-missing',
          eventId,
          message:
            `event ${eventId} (${at}) is missing` +
            (where[k] ? ` from ${where[k]} (deleted)` : ' from every day index (deleted)'),
        });
        return;
      }
      const expectedLeaf = seal.leaves[leafIndex];
      const storedHash = storedHashOf(ev);
      const entryView = toEntry(ev);
      if (leafHashOf(entryView, storedHash) === expectedLeaf) return;
      add({
        kind: 'event-modified',
        eventId,
        message: `event ${eventId} (${at}) was modified: ${whatChanged(ev, entry, seal, leafIndex, storedHash)}`,
      });
    });
  }
  return gone;
}

/** As much as can be told about what changed in a modified event. */
function whatChanged(
  ev: StoredEvent,
  entry: LedgerDoc | undefined,
  seal: Seal,
  leafIndex: number,
  storedHash: string,
): string {
  const parts: string[] = [];
  const sealedStored = seal.storedHashes[leafIndex];
  const publicSame =
    sealedStored !== undefined && leafHashOf(toEntry(ev), sealedStored) === seal.leaves[leafIndex];
  if (!publicSame) parts.push('its public fields (what the API returns) differ from what was sealed');
  if (sealedStored !== storedHash)
    parts.push('its stored-only fields (orgId, ipAddress, userAgent, acceptedAt or salt) differ');
  if (entry) {
    for (const f of ['createdAt', 'acceptedAt'] as const) {
      if (Date.parse(ev[f]) !== Date.parse(entry[f]))
        parts.push(`${f} is ${ev[f]}, the ledger recorded ${entry[f]}`);
    }
  }
  if (ev.orgId !== seal.orgId) parts.push(`orgId is ${ev.orgId}`);
  return `${parts.join('; ')} (leaf ${short(seal.leaves[leafIndex])} sealed)`;
}

/**
 * The ids of sealed events as 53-bit hashes, sorted once filled: 8 bytes per event instead of a string set.
 * A collision can only hide an unsealed entry with odds of about n / 2^53; suspected duplicates are confirmed
 * by id before they are reported.
 */
export class IdHashes {
  private values = new Float64Array(1 << 16);
  private n = 0;

  add(id: string): void {
    if (this.n === this.values.length) {
      const bigger = new Float64Array(this.values.length * 2);
      bigger.set(this.values);
      this.values = bigger;
    }
    this.values[this.n++] = hash53(id);
  }

  seal(): void {
    this.values = this.values.slice(0, this.n).sort();
  }

  has(id: string): boolean {
    const h = hash53(id);
    let lo = 0;
    let hi = this.n - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = this.values[mid]!;
      if (v === h) return true;
      if (v < h) lo = mid + 1;
      else hi = mid - 1;
    }
    return false;
  }

  /** Hashes that occur more than once. */
  repeated(): Set<number> {
    const out = new Set<number>();
    for (let i = 1; i < this.n; i++) if (this.values[i] === this.values[i - 1]) out.add(this.values[i]!);
    return out;
  }
}

/** cyrb53: a fast, well-mixed 53-bit string hash. */
function hash53(str: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < str.length; i++) {
    const ch = str.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** An event listed by two seals (or twice by one): found by hash, confirmed and named by id. */
export async function reportSealedTwice(
  store: Store,
  orgId: string,
  sealed: IdHashes,
  inWindow: (s: Checkpoint) => boolean,
  problems: Problem[],
): Promise<void> {
  const suspects = sealed.repeated();
  if (suspects.size === 0) return;
  const where = new Map<string, number[]>();
  for await (const seal of iterateSeals(store, orgId, { withLists: true, pageSize: 20 })) {
    if (!inWindow(seal)) continue;
    for (const id of seal.eventIds) {
      if (suspects.has(hash53(id))) where.set(id, [...(where.get(id) ?? []), seal.seq]);
    }
  }
  for (const [eventId, seqs] of where) {
    if (seqs.length < 2) continue;
    problems.push({
      kind: 'sealed-twice',
      orgId,
      seq: seqs[1],
      eventId,
      message: `event ${eventId} is listed by seals ${seqs.join(', ')}: sealed more than once`,
    });
  }
}
