// A customer-side check of one entry, with nothing but the API's answers (no code of this service):
//   curl … /api/v1/audit-logs/<id>/proof > proof.json
//   curl … /api/v1/audit-logs/integrity/public-key > public-key.json
//   node verify-proof.mjs proof.json public-key.json [--witness <verifier key>]… [--quorum <k>]
// The proof may also be the c2sp.org/tlog-proof@v1 text of `…/proof?format=tlog-proof` (its `extra` line holds
// the entry and storedHash). (Node 18+ and `npm install canonicalize`.) It checks that the entry is the leaf at `index` of the org's
// tree, that the tree's root is the one of the checkpoint, that the log signed that checkpoint (a C2SP signed
// note, c2sp.org/tlog-checkpoint) with a key valid now, and, with --witness, that at least k of those witnesses
// cosigned it. public-key.json lists every key the log used with its window (`keys`); the service signs what it
// serves with the keys valid when it serves it, so a checkpoint signed only by a key outside its window — a
// retired key, e.g. a stolen one — exits 2. Any other failure exits 1.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import canonicalize from 'canonicalize';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { witness: { type: 'string', multiple: true, default: [] }, quorum: { type: 'string' } },
});
if (positionals.length !== 2)
  throw new Error('usage: verify-proof.mjs proof.json public-key.json [--witness vkey]…');
/** The proof as JSON, or from a tlog-proof: extra line, index, inclusion lines, blank line, checkpoint note. */
function readProof(text) {
  if (!text.startsWith('c2sp.org/tlog-proof@v1\n')) return JSON.parse(text);
  const at = text.indexOf('\n\n');
  const [, extraLine, indexLine, ...inclusion] = text.slice(0, at).split('\n');
  const extra = JSON.parse(Buffer.from(extraLine.replace(/^extra /, ''), 'base64').toString('utf8'));
  const checkpoint = text.slice(at + 2);
  const size = Number(checkpoint.split('\n')[1]);
  return { ...extra, index: Number(indexLine.replace(/^index /, '')), size, inclusion, checkpoint };
}
const proof = readProof(fs.readFileSync(positionals[0], 'utf8'));
const published = JSON.parse(fs.readFileSync(positionals[1], 'utf8'));
// A public-key.json saved before key rotation existed holds one key, with no window.
const logKeys = published.keys ?? [{ ...published, validFrom: null, validUntil: null }];
const quorum = Number(values.quorum ?? values.witness.length);
const sha256 = (...parts) => parts.reduce((h, p) => h.update(p), crypto.createHash('sha256')).digest();

/** `<name>+<8 hex key id>+<base64(type ‖ 32-byte Ed25519 key)>` (c2sp.org/signed-note). */
function parseVkey(vkey) {
  const m = /^([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/]+=*)$/.exec(vkey);
  const raw = m && Buffer.from(m[3], 'base64');
  if (!m || raw.length !== 33) throw new Error(`not a verifier key: ${vkey}`);
  const id = sha256(Buffer.from(`${m[1]}\n`), raw)
    .subarray(0, 4)
    .toString('hex');
  if (id !== m[2]) throw new Error(`verifier key ${m[1]}: the key id does not match`);
  const key = crypto.createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: raw.subarray(1).toString('base64url') },
    format: 'jwk',
  });
  return { name: m[1], id: Buffer.from(m[2], 'hex'), type: raw[0], key };
}

// 1. The note: its text, and its signature lines by name.
if (typeof proof.checkpoint !== 'string')
  throw new Error(
    proof.status === 'pending'
      ? 'the entry is not sealed yet: fetch its proof again in a few seconds'
      : 'the proof has no checkpoint: the entry is sealed but not in the org tree yet; fetch its proof again shortly',
  );
const note = proof.checkpoint;
const split = note.lastIndexOf('\n\n');
const text = note.slice(0, split + 1);
const sigs = note
  .slice(split + 2, -1)
  .split('\n')
  .map((line) => /^— (\S+) (\S+)$/u.exec(line))
  .filter(Boolean)
  .map(([, name, b64]) => ({ name, raw: Buffer.from(b64, 'base64') }));
const signedBy = (v) =>
  sigs.some(
    (s) =>
      s.name === v.name &&
      s.raw.subarray(0, 4).equals(v.id) &&
      crypto.verify(null, Buffer.from(text), v.key, s.raw.subarray(4)),
  );

// 2. Witnesses: cosignature/v1 over "cosignature/v1\ntime <t>\n" + the checkpoint text; each with its time.
const cosigned = values.witness.map(parseVkey).flatMap((w) => {
  const s = sigs.find(
    (x) =>
      x.name === w.name &&
      x.raw.length === 76 &&
      x.raw.subarray(0, 4).equals(w.id) &&
      crypto.verify(
        null,
        Buffer.from(`cosignature/v1\ntime ${x.raw.readBigUInt64BE(4)}\n${text}`),
        w.key,
        x.raw.subarray(12),
      ),
  );
  return s ? [{ name: w.name, time: Number(s.raw.readBigUInt64BE(4)) }] : [];
});
if (cosigned.length < quorum)
  throw new Error(`only ${cosigned.length} of the ${quorum} witness cosignatures needed verify`);

// 3. The log's signature, by a key whose window holds a time the checkpoint is known to have existed at: the
// earliest time a witness cosigned it, else now (the service signs what it serves with the keys valid then).
const at = new Date(
  cosigned.length ? Math.min(...cosigned.map((c) => c.time)) * 1000 : Date.now(),
).toISOString();
const signers = logKeys.filter((k) => signedBy(parseVkey(k.verifierKey)));
if (!signers.length) throw new Error('the checkpoint is not signed by any key of the log');
const current = signers.filter(
  (k) => (!k.validFrom || k.validFrom <= at) && (k.validUntil === null || at < k.validUntil),
);
if (!current.length) {
  const which = signers.map((k) => `key ${k.keyId}, outside its window [${k.validFrom}, ${k.validUntil})`);
  console.error(
    `the checkpoint is signed only by ${which.join('; ')} at ${at}: do not trust it (a proof saved before a ` +
      'key rotation: fetch it again, it is served signed by the keys valid now)',
  );
  process.exit(2);
}
const log = parseVkey(current[0].verifierKey);
const [origin, size, rootB64] = text.split('\n');
if (Number(size) !== proof.size) throw new Error('the proof is for another tree size than the checkpoint');

// 4. The leaf, from the entry exactly as the API returned it and the storedHash.
const leaf = sha256(Buffer.from([0]), canonicalize(proof.entry), Buffer.from(proof.storedHash, 'hex'));

// 5. The inclusion path up to the root (RFC 9162, section 2.1.3.2).
let fn = proof.index;
let sn = proof.size - 1;
let r = leaf;
for (const p of proof.inclusion.map((h) => Buffer.from(h, 'base64'))) {
  if (sn === 0) throw new Error('inclusion path too long');
  if (fn % 2 === 1 || fn === sn) {
    r = sha256(Buffer.from([1]), p, r);
    while (fn % 2 === 0 && fn !== 0) {
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
  } else r = sha256(Buffer.from([1]), r, p);
  fn = Math.floor(fn / 2);
  sn = Math.floor(sn / 2);
}
// A changed entry gives another leaf, which the path then leads to another root.
if (sn !== 0 || r.toString('base64') !== rootB64)
  throw new Error('the entry is not the one that was sealed: its inclusion path does not lead to the root');

console.log(
  `entry ${proof.entry.id} is leaf ${proof.index} of ${origin} at size ${size}, signed by ${log.name}` +
    (values.witness.length ? `, cosigned by ${cosigned.map((c) => c.name).join(', ') || 'no witness'}` : ''),
);
