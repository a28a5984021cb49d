import { expect } from 'chai';
import crypto from 'node:crypto';
import {
  addSignatureLines,
  checkpointText,
  cosignatureLine,
  COSIGNATURE_V1,
  parseCheckpointText,
  parseVerifierKey,
  signNote,
  verifierKey,
  verifyNote,
  type NoteSigner,
} from '../../src/integrity/note.ts';
import { independentCheck } from '../independent/tlogcheck.ts';

const signer = (name: string): NoteSigner => {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
  return { name, privateKey, publicKey };
};

describe('integrity: signed notes and checkpoints (C2SP)', () => {
  it("verifies the signed-note spec's own example with its verifier key", () => {
    const v = parseVerifierKey('example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k');
    const note =
      'This is an example message.\n\n— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n';
    expect([...verifyNote(note, [v]).valid.keys()]).to.deep.equal(['example.com/foo']);
    expect(() => verifyNote(note.replace('example message', 'exampel message'), [v])).to.throw(
      /does not verify/,
    );
  });

  it('writes checkpoints that Go sumdb/note opens with the verifier key, and witness cosignatures it checks', function () {
    this.timeout(120_000);
    const log = signer('audit.example/acme');
    const witness = signer('witness.example/w1');
    const root = crypto.randomBytes(32);
    const text = checkpointText(log.name, 4096, root);
    expect(text).to.equal(`audit.example/acme\n4096\n${root.toString('base64')}\n`);
    const note = signNote(text, [log]);
    const cosigned = addSignatureLines(note, [cosignatureLine(text, 1_700_000_000, witness)]);
    const logKey = verifierKey(log.name, log.publicKey);
    const witnessKey = verifierKey(witness.name, witness.publicKey, COSIGNATURE_V1);

    const ours = verifyNote(cosigned, [parseVerifierKey(logKey), parseVerifierKey(witnessKey)]);
    expect(ours.valid.get(witness.name)).to.deep.equal({ time: 1_700_000_000 });
    expect(parseCheckpointText(ours.text)).to.include({ origin: log.name, size: 4096 });

    const theirs = independentCheck([
      { kind: 'note', vkey: logKey, note: cosigned, root: root.toString('base64') },
      { kind: 'cosignature', vkey: witnessKey, note: cosigned },
    ]);
    expect(theirs.lines).to.deep.equal(['0 note ok', '1 cosignature ok']);
    // A note whose text changed after signing is refused there too.
    const forged = cosigned.replace('\n4096\n', '\n4097\n');
    expect(independentCheck([{ kind: 'note', vkey: logKey, note: forged }]).ok).to.equal(false);
    expect(independentCheck([{ kind: 'cosignature', vkey: witnessKey, note: forged }]).ok).to.equal(false);
  });

  it('ignores signatures of unknown keys and refuses a note none of them signed', () => {
    const log = signer('audit.example/acme');
    const other = signer('audit.example/acme');
    const note = signNote(checkpointText(log.name, 1, crypto.randomBytes(32)), [other]);
    const { valid } = verifyNote(note, [parseVerifierKey(verifierKey(log.name, log.publicKey))]);
    expect(valid.size).to.equal(0);
  });

  it('refuses malformed verifier keys and checkpoints, naming what is wrong', () => {
    const log = signer('audit.example/acme');
    const good = verifierKey(log.name, log.publicKey);
    expect(() => parseVerifierKey(good.replace(/\+([0-9a-f]{8})\+/, '+00000000+'))).to.throw(
      /key id does not match/,
    );
    expect(() => parseVerifierKey('no-plus-signs')).to.throw(/not a verifier key/);
    expect(() => verifierKey('has space', log.publicKey)).to.throw(/without spaces/);
    expect(() => parseCheckpointText('origin\n01\nAAAA\n')).to.throw(/not a checkpoint/);
  });
});
