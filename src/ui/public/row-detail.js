// A row of the list expanded into every field and its integrity state, checked in this browser when sealed.
import { api, ApiError } from './api.js';
import { el } from './dom.js';
import { checkSealed } from './proof.js';
import { detailRow, showIntegrity } from './table.js';

/** The service's checkpoint key (`GET …/integrity/public-key`), fetched once per sign-in when a proof needs it. */
let publicKey;

/** Signing out forgets the checkpoint key: it is fetched once per sign-in. */
export function forgetPublicKey() {
  publicKey = undefined;
}

export async function toggleDetail(row, entry) {
  const open = row.nextElementSibling?.classList.contains('detail-row');
  if (open) {
    row.nextElementSibling.remove();
    row.setAttribute('aria-expanded', 'false');
    return;
  }
  const detail = detailRow(entry);
  row.after(detail.row);
  row.setAttribute('aria-expanded', 'true');
  try {
    const proof = await api.proof(entry.id);
    showIntegrity(
      detail.integrity,
      proof,
      proof.status === 'sealed' ? await checkShown(entry, proof) : undefined,
    );
  } catch (err) {
    if (err instanceof ApiError && err.code === 'route_not_found') showIntegrity(detail.integrity, null);
    else detail.integrity.replaceChildren(el('span', { class: 'muted' }, `Could not check: ${err.message}`));
  }
}

/**
 * The browser's own check of a sealed proof, over what this page shows: the row's copy of the entry and the entry
 * as `GET /audit-logs/:id` returns it now, never the proof's own copy (a proof is only evidence about the entry
 * it is checked against).
 */
async function checkShown(entry, proof) {
  publicKey ??= api.publicKey().catch((err) => {
    publicKey = undefined;
    throw err;
  });
  const [current, key] = await Promise.all([api.entry(entry.id), publicKey]);
  return checkSealed([entry, current], proof, key);
}
