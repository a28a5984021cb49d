import crypto from 'node:crypto';
import { expect } from 'chai';
import type { Bytes32 } from '../../src/integrity/event-hash.ts';
import { Written, type EntryBatch, type WrittenEntry } from '../../src/integrity/written.ts';

const bytes32 = (s: string) => crypto.createHash('sha256').update(s).digest().toString('latin1') as Bytes32;
const entry = (orgId: string, eventId: string, acceptedAt: string): WrittenEntry => ({
  orgId,
  eventId,
  acceptedAt,
  leaf: bytes32(eventId),
  storedHash: bytes32(`stored ${eventId}`),
  index: `audit-logs-${acceptedAt.slice(0, 10).replaceAll('-', '.')}`,
});

/** A batch's entries one by one, as the write path gave them. */
const entriesOf = (orgId: string, b: EntryBatch): WrittenEntry[] =>
  b.eventIds.map((eventId, k) => ({
    orgId,
    eventId,
    acceptedAt: b.acceptedAt[k]!,
    leaf: b.leaves.toString('latin1', k * 32, k * 32 + 32) as Bytes32,
    storedHash: b.storedHashes.toString('latin1', k * 32, k * 32 + 32) as Bytes32,
    index: b.indices[k]!,
  }));
const ids = (b: EntryBatch) => b.eventIds;

describe('integrity: what the write path hands to its own sealer (Written)', () => {
  const t1 = '2026-11-26T10:00:00.001Z';
  const t2 = '2026-11-26T10:00:00.002Z';
  const t3 = '2026-11-26T10:00:00.003Z';

  it('takes entries only while its sealer leads and it has room; losing the lead forgets them', () => {
    const w = new Written(3);
    expect(w.taking).to.equal(false);
    w.leading = true;
    expect(w.taking).to.equal(true);
    w.add([entry('o', 'e1', t1), entry('o', 'e2', t1)]);
    expect(w.taking).to.equal(true);
    w.add([entry('o', 'e3', t2)]);
    expect(w.taking, 'full').to.equal(false);
    expect(ids(w.after('o', undefined, t3))).to.deep.equal(['e1', 'e2', 'e3']);
    w.leading = false;
    w.leading = true;
    expect(ids(w.after('o', undefined, t3))).to.deep.equal([]);
    expect(w.taking).to.equal(true);
  });

  it('gives an org’s entries after the cursor, up to the cutoff, in key order, and forgets the sealed ones', () => {
    const w = new Written(4);
    w.leading = true;
    w.add([entry('o', 'e5', t2), entry('o', 'e4', t2), entry('p', 'x', t1)]);
    w.add([entry('o', 'e1', t1), entry('o', 'e9', t3)]);
    expect(w.taking).to.equal(false);
    expect(ids(w.after('o', undefined, t2))).to.deep.equal(['e1', 'e4', 'e5']);
    // Each with its own leaf and storedHash, also from a request only part of which is sealed.
    expect(entriesOf('o', w.after('o', { acceptedAt: t2, eventId: 'e4' }, t3))).to.deep.equal([
      entry('o', 'e5', t2),
      entry('o', 'e9', t3),
    ]);
    // e1 and e4 were at or before that cursor: gone, and they free room.
    expect(ids(w.after('o', undefined, t3))).to.deep.equal(['e5', 'e9']);
    expect(w.taking).to.equal(true);
    expect(ids(w.after('p', undefined, t3))).to.deep.equal(['x']);
  });
});

describe('integrity: Written hands over whole requests at once, and any order still in key order', () => {
  it('forgets the sealed part of a request and frees its room', () => {
    const [t1, t2] = ['2026-11-26T10:00:00.001Z', '2026-11-26T10:00:00.002Z'];
    const w = new Written(4);
    w.leading = true;
    w.add([entry('o', 'a1', t1), entry('o', 'a2', t1), entry('o', 'a3', t1)]);
    w.add([entry('o', 'b1', t2)]);
    expect(w.taking).to.equal(false);
    expect(ids(w.after('o', { acceptedAt: t1, eventId: 'a2' }, t2))).to.deep.equal(['a3', 'b1']);
    expect(w.taking).to.equal(true);
    w.add([entry('o', 'c1', t2), entry('o', 'c2', t2)]);
    expect(w.taking).to.equal(false);
  });

  it('puts requests accepted in the same millisecond in key order, whichever came first', () => {
    const t1 = '2026-11-26T10:00:00.001Z';
    const w = new Written(100);
    w.leading = true;
    w.add([entry('o', 'a2', t1), entry('o', 'a4', t1)]);
    w.add([entry('o', 'a1', t1), entry('o', 'a3', t1)]);
    w.add([entry('o', 'a0', '2026-11-26T10:00:00.000Z')]);
    expect(ids(w.after('o', undefined, t1))).to.deep.equal(['a0', 'a1', 'a2', 'a3', 'a4']);
  });

  it('gives the same entries as one sorted list would, for requests in order, out of order and interleaved', () => {
    // A small deterministic generator: the same cases every run.
    let seed = 7;
    const rand = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const times = ['2026-11-26T10:00:00.001Z', '2026-11-26T10:00:00.002Z', '2026-11-26T10:00:00.003Z'];
    const key = (e: WrittenEntry) => `${e.acceptedAt} ${e.eventId}`;
    for (let round = 0; round < 200; round++) {
      const w = new Written(1_000_000);
      w.leading = true;
      let alive: WrittenEntry[] = [];
      let cursor: { acceptedAt: string; eventId: string } | undefined;
      let next = 0;
      for (let step = 0; step < 8; step++) {
        for (let r = rand(3); r > 0; r--) {
          // One request: one acceptedAt (at or after the cursor's), ids in order, reversed, or from a shared range.
          const at =
            times[Math.min(times.length - 1, times.indexOf(cursor?.acceptedAt ?? times[0]!) + rand(2))]!;
          const n = 1 + rand(5);
          const shared = rand(4) === 0;
          let ids = Array.from({ length: n }, (_, i) =>
            shared ? `e${String(rand(1000)).padStart(4, '0')}` : `e${String(next + i).padStart(4, '0')}`,
          );
          next += n;
          if (rand(4) === 0) ids = ids.reverse();
          ids = [...new Set(ids)].filter((id) => !alive.some((e) => e.eventId === id));
          if (cursor)
            ids = ids.filter(
              (id) => key(entry('o', id, at)) > key(entry('o', cursor!.eventId, cursor!.acceptedAt)),
            );
          const entries = ids.map((id) => entry('o', id, at));
          w.add(entries);
          alive.push(...entries);
        }
        const cutoff = times[rand(times.length)]!;
        const expected = alive
          .filter((e) => e.acceptedAt <= cutoff)
          .sort((a, b) => (key(a) < key(b) ? -1 : 1));
        const got = w.after('o', cursor, cutoff);
        expect(entriesOf('o', got), `round ${round} step ${step}`).to.deep.equal(expected);
        // A seal takes a prefix of what it was handed: the cursor moves to its end, and that much is forgotten.
        if (expected.length > 0) {
          const last = expected[rand(expected.length)]!;
          cursor = { acceptedAt: last.acceptedAt, eventId: last.eventId };
          alive = alive.filter((e) => key(e) > key(last));
        }
      }
    }
  });
});
