// The Streams view: the org's push streams with their status, lag and last error; add and edit per destination
// type; send a test event; pause and resume. Everything goes through /api/v1/audit-logs/streams with the
// signed-in key (owners and admins with a personal key; the API refuses others and the view says so).
import { api, ApiError } from './api.js';
import { $, el, formatCount, relativeTime } from './dom.js';

/** A private CA's certificate: every destination type takes one (TLS is always verified). */
const CA_FIELD = ['ca', 'CA certificate (PEM, for a private CA)', 'pem'];

/**
 * The form's fields per destination type: [setting, label, kind, required?], kind: text | secret | number | bool |
 * list | pem.
 */
const TYPES = {
  webhook: {
    label: 'HTTPS webhook (Standard Webhooks)',
    fields: [
      ['url', 'Endpoint URL', 'text', true],
      ['secret', 'Signing secret (whsec_…; left empty, one is generated)', 'secret'],
      CA_FIELD,
    ],
  },
  splunk_hec: {
    label: 'Splunk HTTP Event Collector',
    fields: [
      ['url', 'HEC URL (https://…:8088)', 'text', true],
      ['token', 'HEC token', 'secret', true],
      ['index', 'Index', 'text'],
      ['sourcetype', 'Source type', 'text'],
      ['ack', 'Indexer acknowledgement', 'bool'],
      CA_FIELD,
    ],
  },
  datadog: {
    label: 'Datadog Logs',
    fields: [
      ['url', 'Intake URL of your site (e.g. https://http-intake.logs.datadoghq.eu)', 'text', true],
      ['apiKey', 'API key', 'secret', true],
      ['service', 'Service', 'text'],
      ['tags', 'Tags (comma-separated)', 'list'],
      CA_FIELD,
    ],
  },
  s3: {
    label: 'S3-compatible storage',
    fields: [
      ['endpoint', 'Endpoint (empty for AWS)', 'text'],
      ['region', 'Region', 'text', true],
      ['bucket', 'Bucket', 'text', true],
      ['prefix', 'Key prefix', 'text'],
      ['accessKeyId', 'Access key id', 'text', true],
      ['secretAccessKey', 'Secret access key', 'secret', true],
      ['forcePathStyle', 'Path-style addressing', 'bool'],
      CA_FIELD,
    ],
  },
  syslog: {
    label: 'Syslog over TLS (RFC 5424)',
    fields: [['host', 'Host', 'text', true], ['port', 'Port', 'number', true], CA_FIELD],
  },
};

const STATUS_PILL = { active: 'pill-ok', paused: 'pill-wait', failing: 'pill-bad', disabled: 'pill-bad' };

let streams = [];
/** The stream being edited, or undefined while adding. */
let editing;

function lag(seconds) {
  if (!seconds) return 'caught up';
  if (seconds < 120) return `${seconds} s behind`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min behind`;
  return `${Math.round(seconds / 3600)} h behind`;
}

function notice(text, kind = 'error') {
  const box = $('streams-notice');
  box.className = `notice notice-${kind}`;
  box.replaceChildren(...(Array.isArray(text) ? text : [text]));
  box.hidden = false;
}

function explain(err) {
  if (err instanceof ApiError && err.status === 403)
    return 'Only organization owners and admins, signed in with a personal key, can manage streams.';
  return err.message ?? String(err);
}

/** Runs `fn` with the button disabled, showing any refusal in the notice. */
async function busy(button, fn) {
  button.disabled = true;
  try {
    await fn();
  } catch (err) {
    notice(explain(err));
  } finally {
    button.disabled = false;
  }
}

function streamRow(s) {
  const paused = s.status === 'paused';
  const actions = el(
    'div',
    { class: 'stream-actions' },
    el(
      'button',
      {
        type: 'button',
        class: 'btn btn-small',
        onclick: (e) =>
          busy(e.currentTarget, async () => {
            const r = await api.streamTest(s.id);
            notice(
              r.ok
                ? `Test event delivered to “${s.name}”: ${r.status ?? ''} ${r.reply ?? ''}`.trim()
                : `The test event to “${s.name}” failed: ${r.error ?? r.status}`,
              r.ok ? 'ok' : 'error',
            );
          }),
      },
      'Send test event',
    ),
    el(
      'button',
      {
        type: 'button',
        class: 'btn btn-small',
        onclick: (e) =>
          busy(e.currentTarget, async () => {
            await (paused ? api.streamResume(s.id) : api.streamPause(s.id));
            await refresh();
          }),
      },
      paused || s.status === 'disabled' || s.status === 'failing' ? 'Resume' : 'Pause',
    ),
    el('button', { type: 'button', class: 'btn btn-small btn-quiet', onclick: () => openForm(s) }, 'Edit'),
  );
  return el(
    'tr',
    { dataset: { id: s.id } },
    el(
      'td',
      { class: 'stream-name', 'data-label': 'Stream' },
      el('strong', {}, s.name),
      el('br'),
      TYPES[s.type]?.label ?? s.type,
    ),
    el(
      'td',
      { 'data-label': 'Status' },
      el('span', { class: `pill ${STATUS_PILL[s.status] ?? ''}` }, s.status),
    ),
    el(
      'td',
      { 'data-label': 'Delivery' },
      `${formatCount(s.delivered)} delivered · ${lag(s.lagSeconds)}`,
      s.lastDeliveredAt ? el('span', { class: 'muted' }, ` · last ${relativeTime(s.lastDeliveredAt)}`) : '',
    ),
    el('td', { class: 'stream-error', 'data-label': 'Last error' }, s.lastError ?? '—'),
    el('td', { 'data-label': 'Actions' }, actions),
  );
}

function render() {
  const rows = $('stream-rows');
  rows.replaceChildren(...streams.map(streamRow));
  $('streams-empty').hidden = streams.length > 0;
}

export async function refresh() {
  try {
    streams = (await api.streams()).data;
    render();
  } catch (err) {
    streams = [];
    render();
    notice(explain(err));
  }
}

function fieldInput(s, [name, label, kind, required]) {
  const id = `stream-field-${name}`;
  const current = s?.settings?.[name];
  const hint = s?.secretHints?.[name];
  let input;
  if (kind === 'bool') input = el('input', { id, name, type: 'checkbox', checked: current === true });
  else if (kind === 'pem') input = el('textarea', { id, name, rows: 3, spellcheck: 'false' }, current ?? '');
  else
    input = el('input', {
      id,
      name,
      type: kind === 'secret' ? 'password' : kind === 'number' ? 'number' : 'text',
      value: kind === 'list' ? (current ?? []).join(', ') : (current ?? ''),
      // A secret is never shown again: left empty, the stored one stays.
      placeholder: kind === 'secret' && hint ? `unchanged (${hint})` : '',
      required: required && !(kind === 'secret' && hint) && !(name === 'secret'),
      autocomplete: 'off',
      spellcheck: 'false',
    });
  return el(
    'label',
    { class: kind === 'bool' ? 'field field-check' : 'field', for: id },
    kind === 'bool' ? [input, ' ', label] : [label, input],
  );
}

function showFields(type, s) {
  $('stream-fields').replaceChildren(...(TYPES[type]?.fields ?? []).map((f) => fieldInput(s, f)));
}

function openForm(s) {
  editing = s;
  const form = $('stream-form');
  form.hidden = false;
  $('stream-form-title').textContent = s ? `Edit “${s.name}”` : 'Add a stream';
  $('stream-type').value = s?.type ?? 'webhook';
  $('stream-type').disabled = Boolean(s);
  $('stream-name').value = s?.name ?? '';
  $('stream-actions').value = (s?.filter?.actions ?? []).join(', ');
  $('stream-workspaces').value = (s?.filter?.workspaceIds ?? []).join(', ');
  showFields($('stream-type').value, s);
  $('stream-name').focus();
}

const list = (text) =>
  text
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

function readForm() {
  const type = $('stream-type').value;
  const settings = {};
  for (const [name, , kind] of TYPES[type].fields) {
    const input = $(`stream-field-${name}`);
    if (kind === 'bool') settings[name] = input.checked;
    else if (kind === 'number') {
      if (input.value !== '') settings[name] = Number(input.value);
    } else if (kind === 'list') {
      if (input.value.trim()) settings[name] = list(input.value);
    } else if (input.value.trim()) settings[name] = input.value.trim();
  }
  const filter = {};
  if (list($('stream-actions').value).length) filter.actions = list($('stream-actions').value);
  if (list($('stream-workspaces').value).length) filter.workspaceIds = list($('stream-workspaces').value);
  return { type, name: $('stream-name').value.trim(), settings, filter };
}

export function initStreams() {
  $('stream-type').replaceChildren(
    ...Object.entries(TYPES).map(([value, t]) => el('option', { value }, t.label)),
  );
  $('stream-type').addEventListener('change', () => showFields($('stream-type').value));
  $('add-stream').addEventListener('click', () => openForm(undefined));
  $('stream-cancel').addEventListener('click', () => {
    $('stream-form').hidden = true;
  });
  $('stream-form').addEventListener('submit', (e) => {
    e.preventDefault();
    busy($('stream-save'), async () => {
      const { type, ...body } = readForm();
      if (editing) {
        await api.streamUpdate(editing.id, body);
        notice(`Saved “${body.name}”.`, 'ok');
      } else {
        const created = await api.streamCreate({ type, ...body });
        notice(
          created.secret
            ? [
                `Created “${created.name}”. Its signing secret is shown this once — store it with your receiver: `,
                el('code', { class: 'secret' }, created.secret),
              ]
            : `Created “${created.name}”.`,
          'ok',
        );
      }
      $('stream-form').hidden = true;
      await refresh();
    });
  });
}
