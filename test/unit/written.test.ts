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
