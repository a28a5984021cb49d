/**
 * C2SP signed notes (c2sp.org/signed-note), the checkpoints written in them (c2sp.org/tlog-checkpoint) and
 * Ed25519 witness cosignatures (c2sp.org/tlog-cosignature, `cosignature/v1`). Any implementation of those specs
 * reads what this writes, e.g. Go's golang.org/x/mod/sumdb/note (test/independent/ checks it does).
 *
 *   key id       = SHA-256(name ‖ 0x0A ‖ type ‖ 32-byte public key)[:4]     type 0x01 log, 0x04 cosigner
 *   verifier key = <name>+<hex key id>+<base64(type ‖ public key)>
 *   signature    = — <name> <base64(key id ‖ Ed25519(text))>                (cosigner: key id ‖ u64 time ‖ sig)
 */
import crypto, { type KeyObject } from 'node:crypto';

export const ED25519 = 0x01;
export const COSIGNATURE_V1 = 0x04;
const MAX_SIGNATURES = 64;

export type NoteSigner = { name: string; privateKey: KeyObject; publicKey: KeyObject };
export type NoteVerifier = { name: string; keyId: number; type: number; publicKey: KeyObject };
export type NoteSignature = { name: string; keyId: number; signature: Buffer };

/** The 32 raw bytes of an Ed25519 public key. */
export function rawPublicKey(key: KeyObject): Buffer {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') throw new Error('not an Ed25519 key');
  return Buffer.from(jwk.x, 'base64url');
}

const publicKeyFromRaw = (raw: Buffer) =>
  crypto.createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') },
    format: 'jwk',
  });

export function noteKeyId(name: string, type: number, publicKey: KeyObject): number {
  const h = crypto
    .createHash('sha256')
    .update(name)
    .update(Buffer.from([0x0a, type]))
    .update(rawPublicKey(publicKey))
    .digest();
  return h.readUInt32BE(0);
}

const validName = (name: string) => name.length > 0 && !/[\s+]/u.test(name);

export function verifierKey(name: string, publicKey: KeyObject, type = ED25519): string {
  if (!validName(name))
    throw new Error(`a key name must be non-empty, without spaces or "+" (got "${name}")`);
  const id = noteKeyId(name, type, publicKey).toString(16).padStart(8, '0');
  return `${name}+${id}+${Buffer.concat([Buffer.from([type]), rawPublicKey(publicKey)]).toString('base64')}`;
}

/** Parses `<name>+<hex id>+<base64 key>`; throws saying what is wrong. */
export function parseVerifierKey(vkey: string): NoteVerifier {
  // The base64 part may itself hold "+": the name ends at the first, the id is the next eight characters.
  const m = /^([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/]+=*)$/.exec(vkey.trim());
  if (!m) throw new Error(`not a verifier key: "${vkey}" (want <name>+<8 hex>+<base64>)`);
  const parts = [m[1]!, m[2]!, m[3]!];
  const material = Buffer.from(parts[2]!, 'base64');
  const type = material[0];
  if (material.length !== 33 || (type !== ED25519 && type !== COSIGNATURE_V1))
    throw new Error(`verifier key "${parts[0]}" is not an Ed25519 key of type 0x01 or 0x04`);
  const publicKey = publicKeyFromRaw(material.subarray(1));
  const keyId = Number.parseInt(parts[1]!, 16);
  if (noteKeyId(parts[0]!, type, publicKey) !== keyId)
    throw new Error(`verifier key "${parts[0]}": the key id does not match the key`);
  return { name: parts[0]!, keyId, type, publicKey };
}

const signatureLine = (name: string, keyId: number, sig: Buffer) => {
  const id = Buffer.alloc(4);
  id.writeUInt32BE(keyId);
  return `— ${name} ${Buffer.concat([id, sig]).toString('base64')}\n`;
};

/** A note: `text` (ending in a newline), a blank line, then one signature line per signer. */
export function signNote(text: string, signers: NoteSigner[]): string {
  checkText(text);
  const lines = signers.map((s) =>
    signatureLine(
      s.name,
      noteKeyId(s.name, ED25519, s.publicKey),
      crypto.sign(null, Buffer.from(text), s.privateKey),
    ),
  );
  return `${text}\n${lines.join('')}`;
}

/** Splits a note into its text and signature lines (unverified); throws on a malformed note. */
export function splitNote(note: string): { text: string; signatures: NoteSignature[] } {
  const at = note.lastIndexOf('\n\n');
  if (at < 0 || !note.endsWith('\n'))
    throw new Error('not a signed note: no blank line before the signatures');
  const text = note.slice(0, at + 1);
  checkText(text);
  const signatures = note
    .slice(at + 2, -1)
    .split('\n')
    .map((line) => {
      const m = /^— (\S+) ([A-Za-z0-9+/]+=*)$/u.exec(line);
      const raw = m ? Buffer.from(m[2]!, 'base64') : undefined;
      if (!m || !raw || raw.length < 5) throw new Error(`not a signature line: "${line}"`);
      return { name: m[1]!, keyId: raw.readUInt32BE(0), signature: raw.subarray(4) };
    });
  if (signatures.length > MAX_SIGNATURES) throw new Error(`a note with over ${MAX_SIGNATURES} signatures`);
  return { text, signatures };
}

/** Adds signature lines (e.g. cosignatures) to a note, leaving out any it already has. */
export function addSignatureLines(note: string, lines: string[]): string {
  const have = new Set(note.split('\n'));
  const fresh = lines.map((l) => l.replace(/\n$/, '')).filter((l) => l && !have.has(l));
  return fresh.length ? `${note}${fresh.join('\n')}\n` : note;
}

function checkText(text: string): void {
  if (!text.endsWith('\n')) throw new Error('a note text must end in a newline');
  if (/[\u0000-\u0009\u000b-\u001f]/.test(text))
    throw new Error('a note text must hold no control characters');
}

/** The checkpoint body of c2sp.org/tlog-checkpoint: origin, size, base64 root, each on its line. */
export function checkpointText(origin: string, size: number, root: Buffer): string {
  return `${origin}\n${size}\n${root.toString('base64')}\n`;
}

export type ParsedCheckpoint = { origin: string; size: number; root: Buffer; text: string };

export function parseCheckpointText(text: string): ParsedCheckpoint {
  const lines = text.split('\n');
  const [origin, size, root] = lines;
  const rootBytes = root ? Buffer.from(root, 'base64') : Buffer.alloc(0);
  if (!origin || !size || !/^(0|[1-9][0-9]*)$/.test(size) || rootBytes.length !== 32)
    throw new Error('not a checkpoint: want origin, tree size and base64 root hash on three lines');
  const n = Number(size);
  if (!Number.isSafeInteger(n)) throw new Error('not a checkpoint: tree size too large');
  return { origin, size: n, root: rootBytes, text };
}

/**
 * The valid signatures of `note` by the given verifiers, by verifier name. Unknown keys are ignored as the
 * spec says; a signature of a known key that does not verify throws (the whole note is refused).
 * Cosignatures (type 0x04) also give their time in seconds.
 */
export function verifyNote(
  note: string,
  verifiers: NoteVerifier[],
): { text: string; valid: Map<string, { time?: number }> } {
  const { text, signatures } = splitNote(note);
  const valid = new Map<string, { time?: number }>();
  for (const sig of signatures) {
    const v = verifiers.find((k) => k.name === sig.name && k.keyId === sig.keyId);
    if (!v) continue;
    if (v.type === COSIGNATURE_V1) {
      if (sig.signature.length !== 72) throw new Error(`cosignature of ${v.name} has the wrong length`);
      const time = Number(sig.signature.readBigUInt64BE(0));
      if (!crypto.verify(null, cosignedMessage(text, time), v.publicKey, sig.signature.subarray(8)))
        throw new Error(`cosignature of ${v.name} does not verify`);
      valid.set(v.name, { time });
    } else {
      if (!crypto.verify(null, Buffer.from(text), v.publicKey, sig.signature))
        throw new Error(`signature of ${v.name} does not verify`);
      valid.set(v.name, {});
    }
  }
  return { text, valid };
}

const cosignedMessage = (text: string, time: number) => Buffer.from(`cosignature/v1\ntime ${time}\n${text}`);

/** A witness's cosignature line over a checkpoint text, at `time` (POSIX seconds). */
export function cosignatureLine(text: string, time: number, signer: NoteSigner): string {
  const ts = Buffer.alloc(8);
  ts.writeBigUInt64BE(BigInt(time));
  const sig = crypto.sign(null, cosignedMessage(text, time), signer.privateKey);
  return signatureLine(
    signer.name,
    noteKeyId(signer.name, COSIGNATURE_V1, signer.publicKey),
    Buffer.concat([ts, sig]),
  );
}
