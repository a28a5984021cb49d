// Rows of the log table and the detail panel a row expands into.
import { el, highlighted, localTime, relativeTime } from './dom.js';

/**
 * One entry as a table row. `ctx` = { terms, isDestructive(action), onToggle(row, entry) }.
 * The row is a button-like control: click, Enter or Space expands it.
 */
export function entryRow(entry, ctx) {
  const destructive = ctx.isDestructive(entry.action);
  const actor = entry.actorEmail
    ? el(
        'span',
        // A long email is cut with an ellipsis (never wrapped at a hyphen): the tooltip holds it whole.
        {
          class: 'actor',
          title: entry.actorName ? `${entry.actorName} <${entry.actorEmail}>` : entry.actorEmail,
        },
        ...highlighted(entry.actorEmail, ctx.terms),
      )
    : entry.actorName
      ? el('span', { class: 'actor', title: entry.actorId ?? '' }, ...highlighted(entry.actorName, ctx.terms))
      : el('span', { class: 'actor system', title: 'Performed by the system, not a person' }, 'System');

  const row = el(
    'tr',
    {
      class: 'entry',
      tabindex: '0',
      'aria-expanded': 'false',
      dataset: { id: entry.id },
    },
    el(
      'td',
      { class: 'col-time' },
      el(
        'time',
        { datetime: entry.createdAt, title: `${entry.createdAt} (UTC)` },
        localTime(entry.createdAt),
      ),
      el('span', { class: 'relative' }, relativeTime(entry.createdAt)),
    ),
    el(
      'td',
      { class: 'col-event' },
      el(
        'span',
        {
          class: destructive ? 'badge badge-destructive' : 'badge',
          // The badge is cut with an ellipsis when narrow: the tooltip always holds the whole type.
          title: destructive ? `${entry.action} (destructive action)` : entry.action,
        },
        ...highlighted(entry.action, ctx.terms),
      ),
    ),
    el('td', { class: 'col-desc' }, ...highlighted(entry.description, ctx.terms)),
    el('td', { class: 'col-actor' }, actor),
  );
  const toggle = () => ctx.onToggle(row, entry);
  row.addEventListener('click', (e) => {
    if (window.getSelection()?.toString()) return; // selecting text is not a click on the row
    if (e.target.closest('a, button')) return;
    toggle();
  });
  row.addEventListener('keydown', (e) => {
    if (e.target !== row) return;
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      toggle();
    }
  });
  return row;
}

const FIELDS = [
  ['Event ID', 'id'],
  ['Event type', 'action'],
  ['Resource type', 'resourceType'],
  ['Resource ID', 'resourceId'],
  ['Resource name', 'resourceName'],
  ['Workspace', 'workspaceId'],
  ['Actor name', 'actorName'],
  ['Actor email', 'actorEmail'],
  ['Actor ID', 'actorId'],
  ['Time (UTC)', 'createdAt'],
];

/** The expanded view of an entry: every field, the metadata and (filled in later) its integrity state. */
export function detailRow(entry) {
  const integrity = el(
    'dd',
    { class: 'integrity', 'aria-live': 'polite' },
    el('span', { class: 'muted' }, 'Checking…'),
  );
  const fields = el(
    'dl',
    { class: 'fields' },
    FIELDS.flatMap(([label, key]) => [
      el('dt', {}, label),
      el(
        'dd',
        {},
        entry[key] === null || entry[key] === undefined
          ? el('span', { class: 'muted' }, '—')
          : String(entry[key]),
      ),
    ]),
    el('dt', {}, 'Integrity'),
    integrity,
  );
  const metadata = el('pre', { class: 'metadata' }, JSON.stringify(entry.metadata ?? {}, null, 2));
  const copy = el(
    'button',
    {
      type: 'button',
      class: 'btn btn-small',
      onclick: async (e) => {
        await navigator.clipboard?.writeText(JSON.stringify(entry, null, 2));
        e.currentTarget.textContent = 'Copied';
      },
    },
    'Copy as JSON',
  );
  const panel = el(
    'div',
    { class: 'detail' },
    fields,
    el(
      'div',
      { class: 'detail-meta' },
      el('div', { class: 'detail-head' }, el('h3', {}, 'Metadata'), copy),
      metadata,
    ),
  );
  const row = el('tr', { class: 'detail-row' }, el('td', { colspan: '4' }, panel));
  return { row, integrity };
}

/**
 * Fills the integrity cell from the proof endpoint's answer (`undefined`: the service has no tamper evidence) and
 * the browser's own check of it (`check`: proof.js checkSealed's answer). Only a check that passed says "Sealed"
 * in green; the service's word alone is reported as not checked.
 */
export function showIntegrity(cell, proof, check) {
  cell.replaceChildren();
  if (!proof) {
    cell.append(el('span', { class: 'muted' }, 'Tamper evidence is not available on this service.'));
    return;
  }
  if (proof.status !== 'sealed') {
    cell.append(
      el('span', { class: 'pill pill-wait' }, 'Pending'),
      el('span', { class: 'muted' }, ' Recorded; it will be sealed into the tamper-evident chain shortly.'),
    );
    return;
  }
  const { seq, sealedAt } = proof.sealCheckpoint ?? {};
  if (check?.state === 'verified') {
    cell.append(
      el('span', { class: 'pill pill-ok' }, 'Sealed'),
      ` in seal #${seq}`,
      sealedAt ? el('span', { class: 'muted' }, ` · ${localTime(sealedAt)}`) : '',
      el(
        'span',
        { class: 'muted', title: `Signing key ${check.keyId}` },
        ' · entry, inclusion proof and signature checked in your browser',
      ),
    );
  } else if (check?.state === 'mismatch') {
    cell.append(
      el('span', { class: 'pill pill-bad' }, 'Does not match'),
      ` This event does not match its seal #${seq}: ${check.reason}. It may have been changed after it was recorded; an operator can run npm run verify.`,
    );
  } else {
    cell.append(
      el('span', { class: 'pill pill-wait' }, 'Not checked'),
      el(
        'span',
        { class: 'muted' },
        ` The service reports it in seal #${seq}; this browser could not check that: ${check?.reason ?? 'no check ran'}.`,
      ),
    );
  }
}
