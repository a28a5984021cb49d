/**
 * A witness (c2sp.org/tlog-witness): it cosigns a log's checkpoint only when it is consistent with the newest
 * one it cosigned before, so a log that rewrites or rolls back its history cannot get a cosignature for it.
 * Logs are trusted by origin prefix: a log of this service is `<AUDIT_LOG_ORIGIN>/<orgId>`, all signed by one
 * key, so `prefix=<verifier key>` covers every org of that service. A submission is checked and its state
 * written without yielding (no await in between), so two submissions can never roll an origin back; one
 * process owns a state folder.
 */
import crypto, { type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { sha256 } from '../integrity/leaf.ts';
import {
  COSIGNATURE_V1,
  cosignatureLine,
  ED25519,
  noteKeyId,
  parseCheckpointText,
  parseVerifierKey,
  splitNote,
  verifierKey,
  verifyNote,
  type NoteSigner,
} from '../integrity/note.ts';
import { verifyConsistency } from '../integrity/tree.ts';
import { WitnessState } from './witness-state.ts';

/** A log the witness follows: every origin `<prefix>/…`, signed by one of `keys`. */
export type TrustedLog = { prefix: string; keys: KeyObject[] };

export type WitnessAnswer = { status: number; contentType: string; body: string };

const KEY_FILE = 'witness-key.pem';
const MAX_PROOF_LINES = 63;
const EMPTY_ROOT = sha256(Buffer.alloc(0));

/** `<prefix>=<verifier key>` as `--log` gives it; the key must be a log key (type 0x01). */
export function parseTrustedLog(spec: string): { prefix: string; key: KeyObject } {
  const at = spec.indexOf('=');
  const prefix = spec.slice(0, at);
  if (at <= 0 || /[\s+]/u.test(prefix))
    throw new Error(`--log wants <origin prefix>=<verifier key> (got "${spec}")`);
  const v = parseVerifierKey(spec.slice(at + 1));
  if (v.type !== ED25519)
    throw new Error(`--log ${prefix}: the verifier key must be an Ed25519 log key (type 0x01)`);
  return { prefix: prefix.replace(/\/$/, ''), key: v.publicKey };
}

export class Witness {
  readonly signer: NoteSigner;
  private readonly state: WitnessState;

  constructor(
    stateDir: string,
    private readonly logs: TrustedLog[],
    name?: string,
    private readonly now: () => number = () => Math.floor(Date.now() / 1000),
  ) {
    fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    const keyFile = path.join(stateDir, KEY_FILE);
    if (!fs.existsSync(keyFile)) {
      const pem = crypto.generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' });
      fs.writeFileSync(keyFile, pem, { mode: 0o600, flag: 'wx' });
    }
    const privateKey = crypto.createPrivateKey(fs.readFileSync(keyFile, 'utf8'));
    const publicKey = crypto.createPublicKey(privateKey);
    const id = crypto
      .createHash('sha256')
      .update(publicKey.export({ type: 'spki', format: 'der' }))
      .digest('hex');
    this.signer = { name: name ?? `localhost/witness-${id.slice(0, 8)}`, privateKey, publicKey };
    this.state = new WitnessState(stateDir);
  }

  /** The witness's verifier key (cosignature/v1, type 0x04), as logs and clients configure it. */
  get verifierKey(): string {
    return verifierKey(this.signer.name, this.signer.publicKey, COSIGNATURE_V1);
  }

  /** The newest cosigned checkpoint of an origin hash, with the cosignature (the monitoring API). */
  checkpointOf(hash: string): string | undefined {
    return this.state.getByHash(hash)?.note;
  }

  /** POST add-checkpoint: the answer the spec gives for `body`. */
  addCheckpoint(body: string): WitnessAnswer {
    const split = body.indexOf('\n\n');
    if (split < 0) return answer(400, 'the body is "old N", proof lines, a blank line, then a signed note\n');
    const head = body
      .slice(0, split + 1)
      .split('\n')
      .slice(0, -1);
    const note = body.slice(split + 2);
    const old = /^old (0|[1-9][0-9]*)$/.exec(head[0] ?? '');
    const proof = head.slice(1).map((l) => Buffer.from(l, 'base64'));
    if (
      !old ||
      proof.length > MAX_PROOF_LINES ||
      proof.some((h, k) => h.length !== 32 || !/^[A-Za-z0-9+/]+=*$/.test(head[k + 1]!))
    )
      return answer(400, 'the first lines must be "old <size>" and at most 63 base64 hashes\n');
    let checkpoint;
    try {
      checkpoint = parseCheckpointText(splitNote(note).text);
    } catch (err) {
      return answer(400, `${(err as Error).message}\n`);
    }
    const { origin, size, root } = checkpoint;
    const log = this.logs.find((l) => origin.startsWith(`${l.prefix}/`));
    if (!log) return answer(404, `unknown log ${origin}\n`);
    const verifiers = log.keys.map((publicKey) => ({
      name: origin,
      keyId: noteKeyId(origin, ED25519, publicKey),
      type: ED25519,
      publicKey,
    }));
    try {
      if (verifyNote(note, verifiers).valid.size === 0)
        return answer(403, 'no signature of a trusted log key\n');
    } catch (err) {
      return answer(403, `${(err as Error).message}\n`);
    }
    const oldSize = Number(old[1]);
    if (oldSize > size) return answer(400, `old size ${oldSize} is larger than the checkpoint's ${size}\n`);
    const known = this.state.get(origin);
    if (oldSize !== (known?.size ?? 0))
      return { status: 409, contentType: 'text/x.tlog.size', body: `${known?.size ?? 0}\n` };
    if (size === 0 && !root.equals(EMPTY_ROOT))
      return answer(422, 'a checkpoint of size 0 must have the empty root\n');
    if (oldSize === 0 && proof.length > 0) return answer(422, 'no consistency proof goes with old size 0\n');
    if (known && oldSize === size && known.root !== root.toString('base64'))
      return answer(422, 'the same size with another root: a fork\n');
    if (known && oldSize > 0 && oldSize < size) {
      if (!verifyConsistency(oldSize, size, proof, Buffer.from(known.root, 'base64'), root))
        return answer(
          422,
          `the checkpoint of size ${size} is not consistent with the one of size ${oldSize}\n`,
        );
    }
    const line = cosignatureLine(checkpoint.text, this.now(), this.signer);
    this.state.put({ origin, size, root: root.toString('base64'), note: `${note}${line}` });
    return { status: 200, contentType: 'text/plain; charset=utf-8', body: line };
  }
}

const answer = (status: number, body: string): WitnessAnswer => ({
  status,
  contentType: 'text/plain; charset=utf-8',
  body,
});
