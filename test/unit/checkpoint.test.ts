import { expect } from 'chai';
import {
  checkpointSignatureValid,
  packSeal,
  parseCheckpoint,
  sealHashOf,
  sealId,
  signCheckpoint,
  unpackSeal,
  type SealCore,
} from '../../src/integrity/checkpoint.ts';
import { generateSigningKeyPem, publicKeyFromPem, signingKeyFromPem } from '../../src/integrity/signing.ts';
import { dayIndicesOf } from '../../src/store/seal-doc.ts';

describe('integrity: signed checkpoints', () => {
  const key = signingKeyFromPem(generateSigningKeyPem());
  const other = signingKeyFromPem(generateSigningKeyPem());
  const core: SealCore = {
    orgId: 'org_1',
    seq: 1,
    count: 3,
    firstAcceptedAt: '2026-01-02T03:04:05.000Z',
    lastAcceptedAt: '2026-01-02T03:04:07.000Z',
    root: 'a'.repeat(64),
    prevSealHash: null,
    sealedAt: '2026-01-02T03:04:15.000Z',
  };

  it('hashes exactly the seal core: a seal stored before still has the same sealHash', () => {
    expect(sealHashOf({ ...core, extra: 1 } as SealCore)).to.equal(
      '53a8e7bb15cf62f888d23fc87324332a671b79531dc05e01b60ef30c107ce4af',
    );
  });

  it('signs with Ed25519 and verifies under the same public key only', () => {
    const cp = signCheckpoint(core, key);
    expect(cp.keyId).to.match(/^[0-9a-f]{16}$/);
    expect(cp.sealHash).to.equal(sealHashOf(core));
    expect(checkpointSignatureValid(cp, publicKeyFromPem(key.publicKeyPem))).to.equal(true);
    expect(checkpointSignatureValid(cp, other)).to.equal(false);
    // Re-signed by another key: valid for that key, not for the published one.
    const forged = signCheckpoint(core, other);
    expect(checkpointSignatureValid(forged, key)).to.equal(false);
  });

  it('breaks the signature when any signed field changes', () => {
    const cp = signCheckpoint(core, key);
    for (const change of [
      { count: 4 },
      { root: 'b'.repeat(64) },
      { seq: 2 },
      { sealedAt: '2026-01-02T03:04:16.000Z' },
    ]) {
      expect(checkpointSignatureValid({ ...cp, ...change }, key), JSON.stringify(change)).to.equal(false);
    }
  });

  it('parses a saved checkpoint and names what is wrong with a bad one', () => {
    const cp = signCheckpoint(core, key);
    expect(parseCheckpoint(JSON.parse(JSON.stringify(cp)))).to.deep.equal(cp);
    expect(() => parseCheckpoint({ ...cp, root: 'xyz' })).to.throw(/root/);
    expect(() => parseCheckpoint({ ...cp, extra: 1 })).to.throw(/additional/);
  });

  it('names seals so that ids sort by seq', () => {
    expect(sealId('org_1', 9) < sealId('org_1', 10)).to.equal(true);
  });

  it("stores a seal's leaves and storedHashes packed, and reads back exactly the lists it sealed", () => {
    const leaves = ['1', '2', '3'].map((c) => c.repeat(64));
    const storedHashes = ['b'.repeat(64), 'b'.repeat(64), 'c'.repeat(64)];
    const seal = {
      ...signCheckpoint(core, key),
      eventIds: ['e1', 'e2', 'e3'],
      cursor: { acceptedAt: 't', eventId: 'e3' },
    };
    const packed = (hex: string[]) => Buffer.from(hex.join(''), 'hex');
    const doc = packSeal({ ...seal, leaves: packed(leaves), storedHashes: packed(storedHashes) });
    expect(doc).not.to.have.any.keys('leaves', 'storedHashes', 'storedHashRuns');
    expect(Buffer.from(doc.packedLeaves, 'base64').length).to.equal(3 * 32);
    expect(Buffer.from(doc.packedStoredHashes!, 'base64').toString('hex')).to.equal(storedHashes.join(''));
    expect(unpackSeal(JSON.parse(JSON.stringify(doc)))).to.deep.equal({ ...seal, leaves, storedHashes });
    // Edited packings read back as lists that no longer fit the count (verification reports the seal).
    const cut = unpackSeal({ ...doc, packedLeaves: Buffer.alloc(3 * 32 + 5).toString('base64') });
    expect(cut.leaves.map((l) => l.length)).to.deep.equal([64, 64, 64, 10]);
    const more = unpackSeal({ ...doc, packedStoredHashes: Buffer.alloc(4 * 32).toString('base64') });
    expect(more.storedHashes.length).to.equal(4);
    expect(() => packSeal({ ...seal, leaves: Buffer.alloc(96), storedHashes: Buffer.alloc(64) })).to.throw(
      /2 storedHashes for 3 leaves/,
    );
  });

  it("keeps the day index of a seal's events as runs, and reads none from runs that do not fit its events", () => {
    const seal = { ...signCheckpoint(core, key), eventIds: ['e1', 'e2', 'e3', 'e4'] };
    const [a, b] = ['audit-logs-2026.12.04', 'audit-logs-2026.12.05'];
    const doc = packSeal({
      ...seal,
      leaves: Buffer.alloc(4 * 32),
      storedHashes: Buffer.alloc(4 * 32),
      indices: [a, a, b, a],
    });
    expect(doc.dayRuns).to.deep.equal([
      [a, 2],
      [b, 1],
      [a, 1],
    ]);
    expect(dayIndicesOf(JSON.parse(JSON.stringify(doc)))).to.deep.equal([a, a, b, a]);
    expect(unpackSeal(doc)).not.to.have.any.keys('dayRuns');
    for (const dayRuns of [
      undefined,
      [[a, 3]],
      [[a, 5]],
      [
        [a, 2],
        [b, -1],
        [a, 3],
      ],
      [
        [a, 2.5],
        [b, 1.5],
      ],
      [[4, 4]],
    ])
      expect(dayIndicesOf({ eventIds: seal.eventIds, dayRuns } as never), JSON.stringify(dayRuns)).to.equal(
        undefined,
      );
  });

  it('reads the storedHashes of seals written as runs, before they were packed', () => {
    const { packedStoredHashes: _, ...packed } = packSeal({
      ...signCheckpoint(core, key),
      eventIds: ['e1', 'e2', 'e3'],
      leaves: Buffer.alloc(96),
      storedHashes: Buffer.alloc(96),
    });
    const doc = {
      ...packed,
      storedHashRuns: [
        ['b'.repeat(64), 2],
        ['c'.repeat(64), 1],
      ] as [string, number][],
    };
    expect(unpackSeal(doc).storedHashes).to.deep.equal(['b'.repeat(64), 'b'.repeat(64), 'c'.repeat(64)]);
    const long = unpackSeal({ ...doc, storedHashRuns: [['d'.repeat(64), 1e12]] });
    expect(long.storedHashes.length).to.equal(4);
  });
});
