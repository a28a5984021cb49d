/** The signing keys' windows: who signs when, and what rotate and retire write (a temp state dir, no engine). */
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { retireKey, rotateKey } from '../../src/integrity/key-rotation.ts';
import { EPOCH, KEY_CHANGE_GRACE_MS, loadKeyring } from '../../src/integrity/keyring.ts';

const fresh = () => ({
  stateDir: fs.mkdtempSync(path.join(os.tmpdir(), 'keyring-')),
  signingKeyPem: undefined,
});
const iso = (ms: number) => new Date(ms).toISOString();

describe('integrity: the keyring', () => {
  it('starts as the one generated key, valid from the epoch with no end', () => {
    const cfg = fresh();
    const ring = loadKeyring(cfg);
    expect(ring.keys.map((k) => [k.validFrom, k.validUntil])).to.deep.equal([[EPOCH, null]]);
    expect(ring.signers(iso(Date.now())).map((k) => k.keyId)).to.deep.equal([ring.keys[0]!.keyId]);
  });

  it('rotates: the new key signs first, the old one beside it until the overlap ends, never sooner than the grace', () => {
    const cfg = fresh();
    const old = loadKeyring(cfg).keys[0]!.keyId;
    const t = Date.parse('2026-12-01T00:00:00.000Z');
    const k2 = rotateKey(cfg, 0, new Date(t));
    const ring = loadKeyring(cfg);
    expect(ring.find(old)!.validUntil).to.equal(iso(t + KEY_CHANGE_GRACE_MS));
    expect(ring.signers(iso(t + 1)).map((k) => k.keyId)).to.deep.equal([k2.keyId, old]);
    expect(ring.signers(iso(t + KEY_CHANGE_GRACE_MS)).map((k) => k.keyId)).to.deep.equal([k2.keyId]);
    expect(ring.validKey(old, iso(t - 1))).to.not.equal(undefined);
    expect(ring.validKey(k2.keyId, iso(t - 1))).to.equal(undefined);

    const k3 = rotateKey(cfg, 3_600_000, new Date(t + 1000));
    const again = loadKeyring(cfg);
    expect(again.find(k2.keyId)!.validUntil).to.equal(iso(t + 1000 + 3_600_000));
    // A window that already ended is not reopened by a later rotation.
    expect(again.find(old)!.validUntil).to.equal(iso(t + KEY_CHANGE_GRACE_MS));
    expect(again.signers(iso(t + KEY_CHANGE_GRACE_MS)).map((k) => k.keyId)).to.deep.equal([
      k3.keyId,
      k2.keyId,
    ]);
  });

  it('retires a key: its window ends, its private key is gone; the last open key cannot be retired', () => {
    const cfg = fresh();
    const old = loadKeyring(cfg).keys[0]!.keyId;
    expect(() => retireKey(cfg, old)).to.throw('rotate first');
    const k2 = rotateKey(cfg, 86_400_000);
    const t = Date.now();
    retireKey(cfg, old, new Date(t));
    const ring = loadKeyring(cfg);
    expect(ring.find(old)!.validUntil).to.equal(iso(t + KEY_CHANGE_GRACE_MS));
    expect(fs.existsSync(path.join(cfg.stateDir, 'signing-key.pem'))).to.equal(false);
    expect(ring.signers(iso(t + KEY_CHANGE_GRACE_MS)).map((k) => k.keyId)).to.deep.equal([k2.keyId]);
    expect(() => retireKey(cfg, k2.keyId)).to.throw('rotate first');
    expect(() => retireKey(cfg, 'nope')).to.throw('no key nope in the ring');
  });

  it('refuses to rotate where no key exists: a key it made would not be the one history has', () => {
    expect(() => rotateKey(fresh(), 0)).to.throw('no signing key in');
  });

  it('refuses a ring whose key id does not match its public key', () => {
    const cfg = fresh();
    loadKeyring(cfg);
    rotateKey(cfg, 0);
    const file = path.join(cfg.stateDir, 'keys', 'keyring.json');
    const json = JSON.parse(fs.readFileSync(file, 'utf8'));
    json.keys[1].keyId = json.keys[0].keyId.replace(/^./, (c: string) => (c === 'a' ? 'b' : 'a'));
    fs.writeFileSync(file, JSON.stringify(json));
    expect(() => loadKeyring(cfg)).to.throw('its public key has the id');
  });
});
