// Checks in the browser that an entry on screen is the one its seal holds, trusting no value the service derived:
// the leaf is recomputed from the entry (src/integrity/leaf.ts), the audit path walked to a root (RFC 9162
// §2.1.3.2, src/integrity/merkle.ts), that root compared with the checkpoint's, and the checkpoint's Ed25519
// signature checked against the service's public key (src/integrity/checkpoint.ts). Every step must pass for
// 'verified'; one that fails gives 'mismatch'; one this browser cannot take (no WebCrypto outside https or
// localhost, no Ed25519) gives 'unchecked', never 'verified'.
import { canonicalJson } from './canonical-json.js';

/** The twelve fields of an entry as the API returns it, in the leaf; the server's PUBLIC_FIELDS. */
export const ENTRY_FIELDS = [
  'id',
  'action',
  'resourceType',
  'resourceId',
  'resourceName',
  'description',
  'actorId',
  'actorName',
  'actorEmail',
  'workspaceId',
  'metadata',
  'createdAt',
];

/** The checkpoint fields its sealHash covers (sealHashOf), and those the signature covers (checkpointOf). */
const SEAL_FIELDS = [
  'orgId',
  'seq',
  'count',
  'firstAcceptedAt',
  'lastAcceptedAt',
  'root',
  'prevSealHash',
  'sealedAt',
];
const SIGNED_FIELDS = [...SEAL_FIELDS, 'sealHash', 'keyId'];

const HEX32 = /^[0-9a-f]{64}$/i;
const bytes = (hex) => Uint8Array.from(hex.match(/../g) ?? [], (b) => parseInt(b, 16));
const hex = (buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');
const utf8 = (s) => new TextEncoder().encode(s);
const sha256 = async (data) => new Uint8Array(await crypto.subtle.digest('SHA-256', data));
const pick = (obj, keys) => Object.fromEntries(keys.filter((k) => k in obj).map((k) => [k, obj[k]]));

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Hex leaf of an entry: SHA-256(0x00 ‖ UTF-8(JCS(entry)) ‖ storedHash as 32 raw bytes). */
export async function leafOf(entry, storedHash) {
  return hex(await sha256(concat([0x00], utf8(canonicalJson(pick(entry, ENTRY_FIELDS))), bytes(storedHash))));
}

/** The hex root an audit path leads to from a hex leaf, or undefined when the path cannot fit the tree. */
async function rootFromAuditPath(leaf, index, treeSize, path) {
  if (!Number.isInteger(index) || !Number.isInteger(treeSize) || index < 0 || index >= treeSize)
    return undefined;
  const node = (left, right) => sha256(concat([0x01], left, right));
  let fn = index;
  let sn = treeSize - 1;
  let r = bytes(leaf);
  for (const h of path) {
    if (sn === 0) return undefined;
    const p = bytes(h);
    if (fn % 2 === 1 || fn === sn) {
      r = await node(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = await node(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? hex(r) : undefined;
}

/** The public key from `GET …/integrity/public-key`: its SPKI bytes and keyId (first 16 hex of their SHA-256). */
async function readPublicKey(answer) {
  const b64 = /-----BEGIN PUBLIC KEY-----([^-]+)-----END PUBLIC KEY-----/.exec(
    answer?.publicKeyPem ?? '',
  )?.[1];
  if (!b64 || answer.algorithm !== 'Ed25519') return undefined;
  const spki = Uint8Array.from(atob(b64.replace(/\s+/g, '')), (c) => c.charCodeAt(0));
  return { spki, keyId: hex(await sha256(spki)).slice(0, 16) };
}

const verified = (keyId) => ({ state: 'verified', keyId });
const mismatch = (reason) => ({ state: 'mismatch', reason });
const unchecked = (reason) => ({ state: 'unchecked', reason });

/**
 * Whether every entry in `entries` (the copies the page shows) is the leaf that `proof` places under the root
 * of its checkpoint, and that checkpoint is signed by `publicKey` (the public-key endpoint's answer).
 * → { state: 'verified', keyId } | { state: 'mismatch', reason } | { state: 'unchecked', reason }.
 */
export async function checkSealed(entries, proof, publicKey) {
  if (!globalThis.crypto?.subtle) return unchecked('the browser offers no WebCrypto here (needs https)');
  const cp = proof?.sealCheckpoint ?? {};
  const path = proof?.auditPath;
  if (
    !HEX32.test(proof?.storedHash ?? '') ||
    !HEX32.test(cp.root ?? '') ||
    !Array.isArray(path) ||
    !path.every((h) => HEX32.test(h ?? '')) ||
    proof.treeSize !== cp.count
  )
    return mismatch('the proof is incomplete or malformed');
  if (entries.length === 0) return mismatch('no entry to check');
  for (const entry of entries) {
    const leaf = await leafOf(entry, proof.storedHash);
    const root = await rootFromAuditPath(leaf, proof.leafIndex, proof.treeSize, path);
    if (root !== cp.root.toLowerCase())
      return mismatch('its content does not lead to the root the seal signed');
  }
  if (hex(await sha256(utf8(canonicalJson(pick(cp, SEAL_FIELDS))))) !== cp.sealHash)
    return mismatch('the seal’s hash does not match its fields');
  const key = await readPublicKey(publicKey);
  if (!key) return unchecked('the service gave no readable Ed25519 public key');
  if (cp.keyId !== key.keyId)
    return mismatch(`the seal names signing key ${cp.keyId}, the service's key is ${key.keyId}`);
  let cryptoKey;
  try {
    cryptoKey = await crypto.subtle.importKey('spki', key.spki, { name: 'Ed25519' }, false, ['verify']);
  } catch (err) {
    return unchecked(
      err?.name === 'NotSupportedError'
        ? 'this browser cannot check Ed25519 signatures'
        : `the public key could not be used (${err?.message ?? err})`,
    );
  }
  let signature;
  try {
    signature = Uint8Array.from(atob(cp.signature ?? ''), (c) => c.charCodeAt(0));
  } catch {
    return mismatch('the seal’s signature is not base64');
  }
  const signed = utf8(canonicalJson(pick(cp, SIGNED_FIELDS)));
  let valid = false;
  try {
    valid = await crypto.subtle.verify({ name: 'Ed25519' }, cryptoKey, signature, signed);
  } catch {
    // A signature of the wrong length: not a signature of this checkpoint.
  }
  return valid ? verified(key.keyId) : mismatch('the seal’s signature is not valid');
}
