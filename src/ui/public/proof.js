// Checks an inclusion proof in the browser: the audit path must lead from the entry's leaf hash to the root of
// its signed seal (RFC 6962 / RFC 9162 §2.1.3.2, inner nodes SHA-256(0x01 ‖ left ‖ right), as in
// src/integrity/merkle.ts). WebCrypto exists only in secure contexts (https, localhost): elsewhere the answer is
// undefined, "not checked", never a false "verified".

const bytes = (hex) => Uint8Array.from(hex.match(/../g) ?? [], (b) => parseInt(b, 16));
const hex = (buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');

async function node(left, right) {
  const data = new Uint8Array(1 + left.length + right.length);
  data[0] = 0x01;
  data.set(left, 1);
  data.set(right, 1 + left.length);
  return new Uint8Array(await crypto.subtle.digest('SHA-256', data));
}

async function rootFromAuditPath(leaf, index, treeSize, path) {
  if (!Number.isInteger(index) || !Number.isInteger(treeSize) || index < 0 || index >= treeSize)
    return undefined;
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

/** true / false for a sealed proof; undefined when this browser cannot check (no WebCrypto here). */
export async function checkInclusion(proof) {
  if (!globalThis.crypto?.subtle) return undefined;
  const root = await rootFromAuditPath(proof.leaf, proof.leafIndex, proof.treeSize, proof.auditPath ?? []);
  return root !== undefined && root === String(proof.checkpoint?.root).toLowerCase();
}
