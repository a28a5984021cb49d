// A customer-side check of one entry, with nothing but the API's answers (no code of this service):
//   curl … /api/v1/audit-logs/<id>/proof > proof.json
//   curl … /api/v1/audit-logs/integrity/public-key > public-key.json
//   node verify-proof.mjs proof.json public-key.json        (needs Node 18+ and `npm install canonicalize`)
import crypto from 'node:crypto';
import fs from 'node:fs';
import canonicalize from 'canonicalize';

const proof = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const { publicKeyPem } = JSON.parse(fs.readFileSync(process.argv[3], 'utf8'));
const sha256 = (...parts) => parts.reduce((h, p) => h.update(p), crypto.createHash('sha256')).digest();
const hex = (s) => Buffer.from(s, 'hex');

// 1. The leaf, from the entry exactly as the API returned it and the storedHash.
const leaf = sha256(Buffer.from([0]), canonicalize(proof.entry), hex(proof.storedHash)).toString('hex');
if (leaf !== proof.leaf) throw new Error('the entry is not the one that was sealed');

// 2. The audit path up to the root (RFC 9162, section 2.1.3.2).
let fn = proof.leafIndex,
  sn = proof.treeSize - 1,
  r = hex(leaf);
for (const p of proof.auditPath.map(hex)) {
  if (sn === 0) throw new Error('audit path too long');
  if (fn % 2 === 1 || fn === sn) {
    r = sha256(Buffer.from([1]), p, r);
    while (fn % 2 === 0 && fn !== 0) {
      fn >>= 1;
      sn >>= 1;
    }
  } else r = sha256(Buffer.from([1]), r, p);
  fn >>= 1;
  sn >>= 1;
}
const cp = proof.checkpoint;
if (sn !== 0 || r.toString('hex') !== cp.root) throw new Error('the audit path does not lead to the root');

// 3. The checkpoint's seal hash and its Ed25519 signature under the published key.
const {
  orgId,
  seq,
  count,
  firstAcceptedAt,
  lastAcceptedAt,
  root,
  prevSealHash,
  sealedAt,
  sealHash,
  keyId,
  signature,
} = cp;
const core = { orgId, seq, count, firstAcceptedAt, lastAcceptedAt, root, prevSealHash, sealedAt };
if (sha256(canonicalize(core)).toString('hex') !== sealHash) throw new Error('sealHash does not match');
const signed = Buffer.from(canonicalize({ ...core, sealHash, keyId }));
if (!crypto.verify(null, signed, publicKeyPem, Buffer.from(signature, 'base64')))
  throw new Error('bad signature');
console.log(
  `entry ${proof.entry.id} is leaf ${proof.leafIndex} of seal ${seq} of org ${orgId}, signed by key ${keyId}`,
);
