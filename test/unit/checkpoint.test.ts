import { expect } from 'chai';
import {
  checkpointSignatureValid,
  parseCheckpoint,
  sealHashOf,
  sealId,
  signCheckpoint,
  type SealCore,
} from '../../src/integrity/checkpoint.ts';
import { generateSigningKeyPem, publicKeyFromPem, signingKeyFromPem } from '../../src/integrity/signing.ts';

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
});
