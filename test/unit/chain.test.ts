import { expect } from 'chai';
import { checkChain } from '../../src/integrity/chain.ts';
import { ringOf, singleKeyRing } from '../../src/integrity/keyring.ts';
import { signCheckpoint, type Checkpoint } from '../../src/integrity/checkpoint.ts';
import { generateSigningKeyPem, signingKeyFromPem, type SigningKey } from '../../src/integrity/signing.ts';

const key = signingKeyFromPem(generateSigningKeyPem());
const other = signingKeyFromPem(generateSigningKeyPem());

function chain(n: number, k: SigningKey = key): Checkpoint[] {
  const out: Checkpoint[] = [];
  for (let seq = 1; seq <= n; seq++) {
    const t = new Date(Date.UTC(2026, 0, 1, 0, seq)).toISOString();
    out.push(
      signCheckpoint(
        {
          orgId: 'org_1',
          seq,
          count: 2,
          firstAcceptedAt: t,
          lastAcceptedAt: t,
          root: String(seq % 10).repeat(64),
          prevSealHash: out[seq - 2]?.sealHash ?? null,
          sealedAt: t,
        },
        k,
      ),
    );
  }
  return out;
}
const kinds = (c: Checkpoint[], cp?: Checkpoint) =>
  checkChain('org_1', c, singleKeyRing(key), cp).map((p) => [p.kind, p.seq]);

describe('integrity: chain checks', () => {
  it('accepts an intact chain and a matching checkpoint', () => {
    const c = chain(4);
    expect(kinds(c, c[2])).to.deep.equal([]);
  });

  it('names a dropped seal and a duplicate seq', () => {
    const c = chain(4);
    expect(kinds([c[0]!, c[2]!, c[3]!])).to.deep.equal([['seal-missing', 2]]);
    expect(kinds([c[0]!, c[1]!, c[1]!, c[2]!])).to.deep.equal([['seal-duplicate', 2]]);
  });

  it('names an edited seal, a broken link and a wrong first link', () => {
    const c = chain(3);
    expect(kinds([c[0]!, { ...c[1]!, count: 9 }, c[2]!])).to.deep.equal([
      ['seal-edited', 2],
      ['seal-bad-signature', 2],
    ]);
    const relinked = signCheckpoint({ ...c[2]!, prevSealHash: c[0]!.sealHash }, key);
    expect(kinds([c[0]!, c[1]!, relinked])).to.deep.equal([['seal-chain-broken', 3]]);
    const first = signCheckpoint({ ...c[0]!, prevSealHash: 'f'.repeat(64) }, key);
    expect(kinds([first])).to.deep.equal([['seal-chain-broken', 1]]);
  });

  it('names seals signed by another key', () => {
    expect(kinds(chain(2, other))).to.deep.equal([
      ['seal-foreign-key', 1],
      ['seal-foreign-key', 2],
    ]);
  });

  it('compares with a saved checkpoint: rewritten, truncated, or not signed by the key', () => {
    const saved = chain(3)[2]!;
    const rewritten = chain(3).map((c) => signCheckpoint({ ...c, root: 'e'.repeat(64) }, key));
    // Rebuild the links so only the checkpoint can tell.
    const relinked: Checkpoint[] = [];
    for (const c of rewritten)
      relinked.push(
        signCheckpoint({ ...c, prevSealHash: relinked[relinked.length - 1]?.sealHash ?? null }, key),
      );
    expect(kinds(relinked)).to.deep.equal([]);
    expect(kinds(relinked, saved)).to.deep.equal([['checkpoint-mismatch', 3]]);
    expect(kinds(chain(2), saved)).to.deep.equal([['chain-truncated', 3]]);
    expect(kinds(chain(3), signCheckpoint(saved, other))).to.deep.equal([['checkpoint-bad-signature', 3]]);
  });

  it('names a seal back-dated before its predecessor, and a seal signed outside its key’s window', () => {
    const c = chain(4);
    // Seal 3 re-made (re-hashed, re-linked, re-signed) with a time an hour before seal 2.
    const back = new Date(Date.parse(c[1]!.sealedAt) - 3_600_000).toISOString();
    const remade: Checkpoint[] = [c[0]!, c[1]!];
    for (const s of c.slice(2)) {
      const { sealHash: _h, keyId: _k, signature: _s, ...core } = s;
      remade.push(
        signCheckpoint(
          {
            ...core,
            prevSealHash: remade[remade.length - 1]!.sealHash,
            ...(s.seq === 3 ? { sealedAt: back } : {}),
          },
          key,
        ),
      );
    }
    expect(kinds(remade)).to.deep.equal([['seal-time-backwards', 3]]);
    // Within the instances' clock skew, an earlier time is no finding.
    const skewed: Checkpoint[] = [c[0]!, c[1]!];
    for (const s of c.slice(2)) {
      const { sealHash: _h, keyId: _k, signature: _s, ...core } = s;
      const t = s.seq === 3 ? new Date(Date.parse(c[1]!.sealedAt) - 1000).toISOString() : s.sealedAt;
      skewed.push(
        signCheckpoint({ ...core, prevSealHash: skewed[skewed.length - 1]!.sealHash, sealedAt: t }, key),
      );
    }
    expect(kinds(skewed)).to.deep.equal([]);

    const windowed = ringOf([
      {
        keyId: key.keyId,
        publicKeyPem: key.publicKeyPem,
        validFrom: '1970-01-01T00:00:00.000Z',
        validUntil: c[2]!.sealedAt,
      },
    ]);
    expect(checkChain('org_1', c, windowed).map((p) => [p.kind, p.seq])).to.deep.equal([
      ['seal-key-outside-window', 3],
      ['seal-key-outside-window', 4],
    ]);
  });
});
