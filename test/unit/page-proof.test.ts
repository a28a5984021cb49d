/**
 * The admin page's own proof check (src/ui/public/proof.js), run in Node's WebCrypto: it must reach the
 * service's bytes for the leaf and the signature, and say "verified" only when every step holds.
 */
import { expect } from 'chai';
import { PUBLIC_FIELDS, toEntry, type StoredEvent } from '../../src/events/schema.ts';
import { signCheckpoint } from '../../src/integrity/checkpoint.ts';
import { leafOfEvent } from '../../src/integrity/event-hash.ts';
import { canonical } from '../../src/integrity/leaf.ts';
import { auditPath, merkleRoot } from '../../src/integrity/merkle.ts';
import { signNote, checkpointText, verifierKey } from '../../src/integrity/note.ts';
import { generateSigningKeyPem, signingKeyFromPem, type SigningKey } from '../../src/integrity/signing.ts';
import { canonicalJson } from '../../src/ui/public/canonical-json.js';
import { checkSealed, ENTRY_FIELDS, leafOf } from '../../src/ui/public/proof.js';
import { TEST_SIGNING_KEY_PEM } from '../helpers.ts';

const key = signingKeyFromPem(TEST_SIGNING_KEY_PEM);
const publicKey = { algorithm: 'Ed25519', keyId: key.keyId, publicKeyPem: key.publicKeyPem };

function stored(i: number, extra: Partial<StoredEvent> = {}): StoredEvent {
  return {
    id: `evt_${i}`,
    orgId: 'acme',
    action: 'workflow.updated',
    resourceType: 'workflow',
    resourceId: `wf_${i}`,
    resourceName: null,
    description: `Änderung ${i} — “quoted” \u2028 😀`,
    actorId: 'usr_1',
    actorName: 'Zoë',
    actorEmail: 'zoe-ann@acme-corp.example',
    workspaceId: null,
    metadata: { b: [1, 2.5, 1e21, -0, 1e-7], a: { é: true, e: null, '\u{1F600}': 'x', '\uE000': 'y' } },
    createdAt: `2026-01-0${(i % 9) + 1}T10:00:00.123Z`,
    acceptedAt: '2026-01-10T00:00:00.000Z',
    ipAddress: '192.0.2.1',
    userAgent: 'test/1',
    ...extra,
  } as StoredEvent;
}

/** A sealed proof for event `at` of `n` events, as GET /:id/proof gives it. */
function proofFor(events: StoredEvent[], at: number) {
  const hashes = events.map((e) => leafOfEvent(e));
  const leaves = hashes.map((h) => h.leaf);
  const checkpoint = signCheckpoint(
    {
      orgId: 'acme',
      seq: 3,
      count: events.length,
      firstAcceptedAt: '2026-01-10T00:00:00.000Z',
      lastAcceptedAt: '2026-01-10T00:00:00.000Z',
      root: merkleRoot(leaves),
      prevSealHash: 'ab'.repeat(32),
      sealedAt: '2026-01-10T00:00:05.000Z',
    },
    key,
  );
  return {
    status: 'sealed',
    entry: toEntry(events[at]!),
    storedHash: hashes[at]!.storedHash,
    leaf: leaves[at]!,
    leafIndex: at,
    treeSize: events.length,
    auditPath: auditPath(leaves, at),
    sealCheckpoint: checkpoint,
  };
}

const ORIGIN = 'audit.example/acme';
const keyView = (k: SigningKey, validFrom: string | null, validUntil: string | null) => ({
  keyId: k.keyId,
  publicKeyPem: k.publicKeyPem,
  verifierKey: verifierKey(ORIGIN, k.publicKey),
  validFrom,
  validUntil,
});

/** The org-tree part of GET /:id/proof for event `at`: index, size, inclusion path and the note signed by `signers`. */
function treeProofFor(events: StoredEvent[], at: number, signers: SigningKey[]) {
  const hashes = events.map((e) => leafOfEvent(e));
  const leaves = hashes.map((h) => h.leaf);
  const b64 = (h: string) => Buffer.from(h, 'hex').toString('base64');
  const text = checkpointText(ORIGIN, events.length, Buffer.from(merkleRoot(leaves), 'hex'));
  return {
    ...proofFor(events, at),
    index: at,
    size: events.length,
    inclusion: auditPath(leaves, at).map(b64),
    checkpoint: signNote(
      text,
      signers.map((k) => ({ name: ORIGIN, ...k })),
    ),
  };
}

// What the page holds: JSON from the API, parsed.
const viaJson = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

describe('admin page: the browser proof check', () => {
  it('canonicalizes JSON to the same bytes as the service (RFC 8785: key order by UTF-16 units, numbers)', () => {
    const values = [stored(1).metadata, { '\u{1F600}': 1, '\uFFFF': 2, a: [{}, [], '\u0000\u001f"\\'] }, 'x'];
    for (const v of values) expect(canonicalJson(v)).to.equal(canonical(v));
  });

  it('lists the twelve public fields the leaf covers', () => {
    expect([...ENTRY_FIELDS].sort()).to.deep.equal([...PUBLIC_FIELDS].sort());
  });

  it('recomputes the leaf the service sealed from the entry as the API returns it', async () => {
    const ev = stored(4);
    const { leaf, storedHash } = leafOfEvent(ev);
    expect(await leafOf(viaJson(toEntry(ev)), storedHash)).to.equal(leaf);
  });

  it('verifies an untouched entry at every position of a 7-leaf seal', async () => {
    const events = Array.from({ length: 7 }, (_, i) => stored(i));
    for (let at = 0; at < events.length; at++) {
      const proof = viaJson(proofFor(events, at));
      const entry = viaJson(toEntry(events[at]!));
      expect(await checkSealed([entry, entry], proof, publicKey)).to.deep.equal({
        state: 'verified',
        keyId: key.keyId,
      });
    }
  });

  it('finds a changed entry a mismatch even when the proof itself is consistent', async () => {
    const events = Array.from({ length: 5 }, (_, i) => stored(i));
    const proof = viaJson(proofFor(events, 2));
    const changed = { ...proof.entry, description: 'something else' };
    expect((await checkSealed([proof.entry, changed], proof, publicKey)).state).to.equal('mismatch');
    // A proof carrying the sealed copy proves nothing about another copy on screen.
    expect((await checkSealed([changed], proof, publicKey)).state).to.equal('mismatch');
    const missing = Object.fromEntries(Object.entries(proof.entry).filter(([k]) => k !== 'workspaceId'));
    expect((await checkSealed([missing], proof, publicKey)).state).to.equal('mismatch');
  });

  it('finds a changed checkpoint, signature or key a mismatch', async () => {
    const events = Array.from({ length: 3 }, (_, i) => stored(i));
    const proof = viaJson(proofFor(events, 1));
    const cp = proof.sealCheckpoint;
    const flip = (s: string) => (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
    for (const checkpoint of [
      { ...cp, sealedAt: '2026-01-11T00:00:00.000Z' },
      { ...cp, sealHash: 'cd'.repeat(32) },
      { ...cp, signature: flip(cp.signature) },
      { ...cp, signature: 'AAAA' },
    ]) {
      const answer = await checkSealed([proof.entry], { ...proof, sealCheckpoint: checkpoint }, publicKey);
      expect(answer.state, JSON.stringify(checkpoint)).to.equal('mismatch');
    }
    const other = signingKeyFromPem((await import('../../src/integrity/signing.ts')).generateSigningKeyPem());
    const otherKey = { algorithm: 'Ed25519', keyId: other.keyId, publicKeyPem: other.publicKeyPem };
    expect((await checkSealed([proof.entry], proof, otherKey)).state).to.equal('mismatch');
    // Re-signed by someone else's key (database access, not the service's key): still a mismatch.
    const resigned = signCheckpoint(cp, other);
    expect(
      (await checkSealed([proof.entry], { ...proof, sealCheckpoint: resigned }, publicKey)).state,
    ).to.equal('mismatch');
    expect((await checkSealed([proof.entry], { ...proof, treeSize: 4 }, publicKey)).state).to.equal(
      'mismatch',
    );
  });

  it('says "unchecked", never "verified", without a usable public key', async () => {
    const proof = viaJson(proofFor([stored(1), stored(2)], 0));
    const answer = await checkSealed([proof.entry], proof, { algorithm: 'Ed25519', publicKeyPem: 'nope' });
    expect(answer.state).to.equal('unchecked');
  });

  describe('against the org tree and its signed note', () => {
    const newer = signingKeyFromPem(generateSigningKeyPem());
    const rotated = {
      algorithm: 'Ed25519',
      keyId: newer.keyId,
      publicKeyPem: newer.publicKeyPem,
      keys: [
        keyView(key, '1970-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z'),
        keyView(newer, '2025-12-31T00:00:00.000Z', null),
      ],
    };

    it('verifies an untouched entry at every position of a 7-leaf tree, by the key valid now', async () => {
      const events = Array.from({ length: 7 }, (_, i) => stored(i));
      for (let at = 0; at < 7; at++) {
        const proof = viaJson(treeProofFor(events, at, [newer, key]));
        expect(await checkSealed([proof.entry], proof, rotated)).to.deep.equal({
          state: 'verified',
          keyId: newer.keyId,
        });
      }
    });

    it('finds a changed entry, root or note a mismatch', async () => {
      const events = Array.from({ length: 5 }, (_, i) => stored(i));
      const proof = viaJson(treeProofFor(events, 2, [newer]));
      const changed = { ...proof.entry, description: 'nothing happened' };
      expect((await checkSealed([changed], proof, rotated)).state).to.equal('mismatch');
      const other = viaJson(treeProofFor([stored(9), ...events.slice(1)], 2, [newer]));
      expect(
        (await checkSealed([proof.entry], { ...proof, checkpoint: other.checkpoint }, rotated)).state,
      ).to.equal('mismatch');
      expect((await checkSealed([proof.entry], { ...proof, size: 6 }, rotated)).state).to.equal('mismatch');
    });

    it('refuses a note signed only by a retired key, or by no key of the log', async () => {
      const events = Array.from({ length: 3 }, (_, i) => stored(i));
      const byRetired = viaJson(treeProofFor(events, 0, [key]));
      const answer = await checkSealed([byRetired.entry], byRetired, rotated);
      expect(answer).to.deep.equal({
        state: 'mismatch',
        reason: `the checkpoint is signed only by key ${key.keyId}, outside its window`,
      });
      const stranger = signingKeyFromPem(generateSigningKeyPem());
      const byStranger = viaJson(treeProofFor(events, 0, [stranger]));
      expect((await checkSealed([byStranger.entry], byStranger, rotated)).state).to.equal('mismatch');
    });
  });
});
