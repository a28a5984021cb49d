// Checks in the browser that an entry on screen is the one the log holds, trusting no value the service derived:
// the leaf is recomputed from the entry (src/integrity/leaf.ts), the inclusion path walked to a root (RFC 9162
// §2.1.3.2), that root compared with the one of the org tree's checkpoint (a C2SP signed note), and the note's
// Ed25519 signature checked against a key of the log valid now (src/integrity/note.ts, keyring.ts). Until the
// tree takes a fresh seal (within a sealer round) the seal's own path and signed checkpoint are checked instead.
// Every step must pass for 'verified'; one that fails gives 'mismatch'; one this browser cannot take (no
// WebCrypto outside https or localhost, no Ed25519) gives 'unchecked', never 'verified'.
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

const b64bytes = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
const b64hex = (b64) => hex(b64bytes(b64));

/**
 * The log's keys from `GET …/integrity/public-key` (every key with its window; an older service gives one key
 * with none): for each, its SPKI bytes, keyId (first 16 hex of their SHA-256) and verifier key.
 */
async function readPublicKeys(answer) {
  if (answer?.algorithm !== 'Ed25519') return [];
  const listed = Array.isArray(answer.keys)
    ? answer.keys
    : [{ ...answer, validFrom: null, validUntil: null }];
  const out = [];
  for (const k of listed) {
    const b64 = /-----BEGIN PUBLIC KEY-----([^-]+)-----END PUBLIC KEY-----/.exec(k?.publicKeyPem ?? '')?.[1];
    if (!b64) continue;
    const spki = b64bytes(b64.replace(/\s+/g, ''));
    const keyId = hex(await sha256(spki)).slice(0, 16);
    if (k.keyId && k.keyId !== keyId) continue;
    out.push({ spki, keyId, verifierKey: k.verifierKey, validFrom: k.validFrom, validUntil: k.validUntil });
  }
  return out;
}

const validAt = (k, at) => (!k.validFrom || k.validFrom <= at) && (k.validUntil == null || at < k.validUntil);

/** Whether `signature` is `key`'s Ed25519 signature of `message`; throws NotSupportedError without Ed25519. */
async function ed25519Verify(spki, signature, message) {
  const cryptoKey = await crypto.subtle.importKey('spki', spki, { name: 'Ed25519' }, false, ['verify']);
  try {
    return await crypto.subtle.verify({ name: 'Ed25519' }, cryptoKey, signature, message);
  } catch {
    return false; // a signature of the wrong length: not a signature of this message
  }
}

const cannotVerify = (err) =>
  unchecked(
    err?.name === 'NotSupportedError'
      ? 'this browser cannot check Ed25519 signatures'
      : `the public key could not be used (${err?.message ?? err})`,
  );

const verified = (keyId) => ({ state: 'verified', keyId });
const mismatch = (reason) => ({ state: 'mismatch', reason });
const unchecked = (reason) => ({ state: 'unchecked', reason });

/**
 * Whether every entry in `entries` (the copies the page shows) is the leaf that `proof` places under the root
 * of its checkpoint, and that checkpoint is signed by a key of `publicKey` (the public-key endpoint's answer).
 * → { state: 'verified', keyId } | { state: 'mismatch', reason } | { state: 'unchecked', reason }.
 */
export async function checkSealed(entries, proof, publicKey) {
  if (!globalThis.crypto?.subtle) return unchecked('the browser offers no WebCrypto here (needs https)');
  if (!HEX32.test(proof?.storedHash ?? '')) return mismatch('the proof is incomplete or malformed');
  if (entries.length === 0) return mismatch('no entry to check');
  const keys = await readPublicKeys(publicKey);
  if (!keys.length) return unchecked('the service gave no readable Ed25519 public key');
  return typeof proof.checkpoint === 'string'
    ? checkInTree(entries, proof, keys)
    : checkInSeal(entries, proof, keys);
}

/** The entries against the org tree's signed note: its text, root and a signature by a key valid now. */
async function checkInTree(entries, proof, keys) {
  const note = proof.checkpoint;
  const split = note.lastIndexOf('\n\n');
  const text = note.slice(0, split + 1);
  const [origin, sizeLine, rootB64] = text.split('\n');
  const path = proof.inclusion;
  if (
    split < 0 ||
    !/^[0-9]+$/.test(sizeLine ?? '') ||
    Number(sizeLine) !== proof.size ||
    !Array.isArray(path) ||
    !path.every((h) => /^[A-Za-z0-9+/]{43}=$/.test(h ?? '')) ||
    !/^[A-Za-z0-9+/]{43}=$/.test(rootB64 ?? '')
  )
    return mismatch('the proof is incomplete or malformed');
  const root = b64hex(rootB64);
  const hexPath = path.map(b64hex);
  for (const entry of entries) {
    const leaf = await leafOf(entry, proof.storedHash);
    if ((await rootFromAuditPath(leaf, proof.index, proof.size, hexPath)) !== root)
      return mismatch('its content does not lead to the root the log signed');
  }
  const now = new Date().toISOString();
  const lines = note
    .slice(split + 2, -1)
    .split('\n')
    .map((line) => /^— (\S+) ([A-Za-z0-9+/]+=*)$/u.exec(line))
    .filter(Boolean);
  const message = utf8(text);
  let signedOutside;
  for (const key of keys) {
    const [name, id] = (key.verifierKey ?? '').split('+');
    if (name !== origin) continue;
    for (const [, lineName, b64] of lines) {
      const raw = b64bytes(b64);
      if (lineName !== name || hex(raw.subarray(0, 4)) !== id) continue;
      let valid;
      try {
        valid = await ed25519Verify(key.spki, raw.subarray(4), message);
      } catch (err) {
        return cannotVerify(err);
      }
      if (valid && validAt(key, now)) return verified(key.keyId);
      if (valid) signedOutside = key;
    }
  }
  return mismatch(
    signedOutside
      ? `the checkpoint is signed only by key ${signedOutside.keyId}, outside its window`
      : 'the checkpoint is not signed by a key of the log',
  );
}

/** The entries against their seal's own path and signed JSON checkpoint, by the key named, in its window. */
async function checkInSeal(entries, proof, keys) {
  const cp = proof.sealCheckpoint ?? {};
  const path = proof.auditPath;
  if (
    !HEX32.test(cp.root ?? '') ||
    !Array.isArray(path) ||
    !path.every((h) => HEX32.test(h ?? '')) ||
    proof.treeSize !== cp.count
  )
    return mismatch('the proof is incomplete or malformed');
  for (const entry of entries) {
    const leaf = await leafOf(entry, proof.storedHash);
    const root = await rootFromAuditPath(leaf, proof.leafIndex, proof.treeSize, path);
    if (root !== cp.root.toLowerCase())
      return mismatch('its content does not lead to the root the seal signed');
  }
  if (hex(await sha256(utf8(canonicalJson(pick(cp, SEAL_FIELDS))))) !== cp.sealHash)
    return mismatch('the seal’s hash does not match its fields');
  const key = keys.find((k) => k.keyId === cp.keyId);
  if (!key) return mismatch(`the seal names signing key ${cp.keyId}, not a key of the service`);
  if (!validAt(key, cp.sealedAt ?? ''))
    return mismatch(`the seal was signed by key ${key.keyId} outside its window`);
  let signature;
  try {
    signature = b64bytes(cp.signature ?? '');
  } catch {
    return mismatch('the seal’s signature is not base64');
  }
  let valid;
  try {
    valid = await ed25519Verify(key.spki, signature, utf8(canonicalJson(pick(cp, SIGNED_FIELDS))));
  } catch (err) {
    return cannotVerify(err);
  }
  return valid ? verified(key.keyId) : mismatch('the seal’s signature is not valid');
}
