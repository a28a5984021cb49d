// A customer's monitor of one org's log, with nothing but the API (no code of this service):
//   node monitor.mjs --url http://localhost:3000 --key "$KEY" --state monitor.json
//                    [--witness <verifier key>]… [--quorum <k>]
// It keeps the last checkpoint it verified in the state file, fetches the newest, checks the log's signature
// (by a key it trusts, inside that key's window), the witnesses' cosignatures (k of them) and the RFC 9162
// consistency proof from the kept checkpoint to the new one, then keeps the new one. A fork or a rollback —
// history rewritten, or the newest entries removed — exits 2 naming both sizes, and so does a checkpoint signed
// only by a key outside its window (a retired key: perhaps a stolen one); any other failure exits 1.
// Keys: the log's keys are pinned on the first run. After a rotation the log signs with the old and the new key
// for an overlap; a new key is trusted once a checkpoint carries it beside a trusted key valid now. A key's
// window only ever shrinks here: an end once published cannot be taken back.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    key: { type: 'string' },
    state: { type: 'string' },
    witness: { type: 'string', multiple: true, default: [] },
    quorum: { type: 'string' },
  },
});
if (!values.url || !values.key || !values.state)
  throw new Error('usage: monitor.mjs --url <service> --key <api key> --state <file> [--witness vkey]…');
const quorum = Number(values.quorum ?? values.witness.length);
const sha256 = (...parts) => parts.reduce((h, p) => h.update(p), crypto.createHash('sha256')).digest();
const node = (l, r) => sha256(Buffer.from([1]), l, r);

async function api(path) {
  const res = await fetch(`${values.url}/api/v1/audit-logs${path}`, {
    headers: { authorization: `Bearer ${values.key}` },
  });
  if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
  return res.headers.get('content-type')?.includes('json') ? res.json() : res.text();
}

function parseVkey(vkey) {
  const m = /^([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/]+=*)$/.exec(vkey);
  const raw = m && Buffer.from(m[3], 'base64');
  if (!m || raw.length !== 33) throw new Error(`not a verifier key: ${vkey}`);
  if (
    sha256(Buffer.from(`${m[1]}\n`), raw)
      .subarray(0, 4)
      .toString('hex') !== m[2]
  )
    throw new Error(`verifier key ${m[1]}: the key id does not match`);
  const key = crypto.createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: raw.subarray(1).toString('base64url') },
    format: 'jwk',
  });
  return { name: m[1], id: Buffer.from(m[2], 'hex'), key };
}

/** The note's text and whether `v` signed it (cosigners sign "cosignature/v1\ntime N\n" + text). */
function signedBy(note, v, cosigner = false) {
  const at = note.lastIndexOf('\n\n');
  const text = note.slice(0, at + 1);
  return note
    .slice(at + 2, -1)
    .split('\n')
    .map((line) => /^— (\S+) (\S+)$/u.exec(line))
    .some((m) => {
      if (!m || m[1] !== v.name) return false;
      const raw = Buffer.from(m[2], 'base64');
      if (!raw.subarray(0, 4).equals(v.id)) return false;
      const msg = cosigner ? `cosignature/v1\ntime ${raw.readBigUInt64BE(4)}\n${text}` : text;
      return crypto.verify(null, Buffer.from(msg), v.key, raw.subarray(cosigner ? 12 : 4));
    });
}

/** RFC 9162 §2.1.4.2. */
function consistent(m, n, proof, mRoot, nRoot) {
  if (m === n) return proof.length === 0 && mRoot.equals(nRoot);
  if (m < 1 || m > n || proof.length === 0) return false;
  const path = (m & (m - 1)) === 0 ? [mRoot, ...proof] : proof;
  let fn = m - 1;
  let sn = n - 1;
  while (fn % 2 === 1) [fn, sn] = [Math.floor(fn / 2), Math.floor(sn / 2)];
  let [fr, sr] = [path[0], path[0]];
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      [fr, sr] = [node(c, fr), node(c, sr)];
      while (fn % 2 === 0 && fn !== 0) [fn, sn] = [Math.floor(fn / 2), Math.floor(sn / 2)];
    } else sr = node(sr, c);
    [fn, sn] = [Math.floor(fn / 2), Math.floor(sn / 2)];
  }
  return sn === 0 && fr.equals(mRoot) && sr.equals(nRoot);
}

const saved = fs.existsSync(values.state) ? JSON.parse(fs.readFileSync(values.state, 'utf8')) : undefined;
const published = await api('/integrity/public-key');
const noWindow = (k) => ({ keyId: k.keyId, verifierKey: k.verifierKey, validFrom: null, validUntil: null });
const offered = published.keys ?? [noWindow(published)];
const earliest = (...ends) => ends.filter(Boolean).sort()[0] ?? null;
const trusted = (saved ? (saved.keys ?? [noWindow(saved)]) : offered).map((t) => ({
  ...t,
  validUntil: earliest(t.validUntil, offered.find((o) => o.verifierKey === t.verifierKey)?.validUntil),
}));
const note = await api('/integrity/checkpoint');
const now = new Date().toISOString();
const inWindow = (k) => (!k.validFrom || k.validFrom <= now) && (k.validUntil === null || now < k.validUntil);
const signers = trusted.filter((k) => signedBy(note, parseVkey(k.verifierKey)));
if (!signers.length)
  throw new Error('the newest checkpoint is not signed by any log key this monitor trusts');
if (!signers.some(inWindow)) {
  const which = signers.map((k) => `key ${k.keyId}, outside its window [${k.validFrom}, ${k.validUntil})`);
  console.error(`the newest checkpoint is signed only by ${which.join('; ')}: do not trust it`);
  process.exit(2);
}
for (const o of offered)
  if (!trusted.some((t) => t.verifierKey === o.verifierKey) && signedBy(note, parseVkey(o.verifierKey)))
    trusted.push(o);
const cosigners = values.witness.map(parseVkey).filter((w) => signedBy(note, w, true));
if (cosigners.length < quorum)
  throw new Error(`only ${cosigners.length} of the ${quorum} witness cosignatures needed verify`);
const [origin, sizeLine, rootB64] = note.split('\n');
const size = Number(sizeLine);
const root = Buffer.from(rootB64, 'base64');

if (saved) {
  const oldRoot = Buffer.from(saved.root, 'base64');
  let ok = false;
  if (size >= saved.size) {
    const { proof } = await api(`/integrity/consistency?from=${saved.size}&to=${size}`);
    ok = consistent(
      saved.size,
      size,
      proof.map((h) => Buffer.from(h, 'base64')),
      oldRoot,
      root,
    );
  }
  if (!ok) {
    console.error(
      `${origin}: the log at size ${size} is not an extension of the checkpoint kept at size ${saved.size}: ` +
        (size < saved.size ? 'a rollback' : 'a fork (history rewritten)'),
    );
    process.exit(2);
  }
}
fs.writeFileSync(values.state, JSON.stringify({ keys: trusted, origin, size, root: rootB64, note }, null, 2));
console.log(
  `${origin}: size ${size} verified${saved ? `, consistent with size ${saved.size}` : ' (first run: kept)'}` +
    (values.witness.length ? `, cosigned by ${cosigners.map((w) => w.name).join(', ')}` : ''),
);
