// The audit log page: sign-in, filters in the URL, the table with "Load more", row details, histogram, export.
import { api, ApiError, session } from './api.js';
import { debounce, el, formatCount, relativeTime, searchTerms } from './dom.js';
import { renderHistogram } from './histogram.js';
import { MultiSelect } from './multi-select.js';
import { checkSealed } from './proof.js';
import { initStreams, refresh as refreshStreams } from './streams.js';
import { detailRow, entryRow, showIntegrity } from './table.js';
import { apiFilters, DEFAULT_RANGE, isFiltered, RANGES, readView, writeView } from './view-state.js';

const PAGE_SIZE = 50;
const $ = (id) => document.getElementById(id);

// The catalogue is inlined by the server: [{ value, destructive }] event types and the known resource types.
const catalogue = JSON.parse($('catalogue').textContent);
const destructive = new Map(catalogue.eventTypes.map((t) => [t.value, t.destructive]));
const isDestructive = (action) => destructive.get(action) ?? false;

let view = readView();
/** The list being shown: its pinned filters, cursor and the ids already on screen. */
let query = {
  generation: 0,
  params: {},
  cursor: undefined,
  loading: false,
  seen: new Set(),
  abort: undefined,
};
/** The pending or finished facets request of this sign-in, and its answer. */
let facets;
/** The service's checkpoint key (`GET …/integrity/public-key`), fetched once per sign-in when a proof needs it. */
let publicKey;
/** Whether `facets` counts departed members' events (it follows the list's "include departed" switch). */
let facetsDeparted = false;
let orgFacets;

const actionFilter = new MultiSelect($('action-filter'), (values) => change({ actions: values }));
const resourceFilter = new MultiSelect($('resource-filter'), (values) => change({ resourceTypes: values }));

// --- Sign-in -------------------------------------------------------------------------------------------------

function showSignIn(error) {
  query.abort?.abort();
  $('viewer').hidden = true;
  $('streams').hidden = true;
  $('session-actions').hidden = true;
  $('sign-in').hidden = false;
  const box = $('sign-in-error');
  box.hidden = !error;
  if (error) box.replaceChildren(...authExplanation(error));
  $('api-key').value = '';
  $('api-key').focus();
}

/** A person-readable account of a 401/403, led by the API's own message. */
function authExplanation(err) {
  if (err.status === 401) {
    return [
      el('strong', {}, 'That key was not accepted. '),
      err.message,
      el(
        'p',
        {},
        'Check that you pasted the whole key (it starts with “alk_”) and that it has not been revoked.',
      ),
    ];
  }
  if (err.code === 'audit_logs_not_enabled') {
    return [el('strong', {}, 'Audit logs are not enabled for this organization. '), err.message];
  }
  return [
    el('strong', {}, 'This key cannot read audit logs. '),
    err.message,
    el('p', {}, 'Use a personal key of an organization owner or admin, or a workspace-scoped key.'),
  ];
}

$('sign-in-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const key = $('api-key').value.trim();
  if (!key) return;
  session.key = key;
  showViewer();
});

$('sign-out').addEventListener('click', () => {
  session.key = null;
  facets = undefined;
  orgFacets = undefined;
  publicKey = undefined;
  showSignIn();
});

function showViewer() {
  $('sign-in').hidden = true;
  $('session-actions').hidden = false;
  if (location.hash === '#streams') return showStreams();
  $('streams').hidden = true;
  $('streams-button').setAttribute('aria-pressed', 'false');
  $('viewer').hidden = false;
  syncControls();
  load();
}

// --- Streams (streams.js); #streams in the address keeps the view across a reload ----------------------------

function showStreams() {
  $('viewer').hidden = true;
  $('streams').hidden = false;
  $('streams-button').setAttribute('aria-pressed', 'true');
  refreshStreams();
}

initStreams();
$('streams-button').addEventListener('click', () => {
  if (location.hash === '#streams') return;
  history.pushState(history.state, '', `${location.pathname}${location.search}#streams`);
  showStreams();
});
$('streams-back').addEventListener('click', () => {
  history.pushState(history.state, '', `${location.pathname}${location.search}`);
  showViewer();
});

// --- Filters -------------------------------------------------------------------------------------------------

function syncControls() {
  $('search').value = view.search;
  actionFilter.set(view.actions);
  resourceFilter.set(view.resourceTypes);
  $('range').value = view.range;
  $('departed').checked = view.departed;
  $('custom-range').hidden = view.range !== 'custom';
  // Dates of a custom range left behind (Back, a preset chosen since) are cleared, never offered again.
  $('from').value = view.range === 'custom' ? toLocalInput(view.from) : '';
  $('to').value = view.range === 'custom' ? toLocalInput(view.to) : '';
  $('clear-filters').hidden = !isFiltered(view);
  renderFilterOptions();
}

function change(patch, { push = true } = {}) {
  view = { ...view, ...patch };
  writeView(view, { push });
  $('clear-filters').hidden = !isFiltered(view);
  load();
}

const searchChanged = debounce(() => change({ search: $('search').value }, { push: false }), 300);
$('search').addEventListener('input', searchChanged);
$('search').addEventListener('keydown', (e) => {
  if (e.key === 'Enter') searchChanged.flush();
});
$('filters').addEventListener('submit', (e) => e.preventDefault());

$('range').addEventListener('change', () => {
  const range = $('range').value;
  $('custom-range').hidden = range !== 'custom';
  if (range === 'custom') {
    // Starts from the window on screen, ending now.
    const now = Date.now();
    const span = RANGES[view.range]?.ms ?? RANGES[DEFAULT_RANGE].ms;
    $('from').value = toLocalInput(new Date(now - span).toISOString());
    $('to').value = toLocalInput(new Date(now).toISOString());
    $('from').focus();
    return; // applied with the Apply button
  }
  change({ range, from: undefined, to: undefined });
});
$('apply-range').addEventListener('click', () => {
  const from = fromLocalInput($('from').value);
  const to = fromLocalInput($('to').value);
  if (from && to && from > to) {
    showState('error', 'The start of the range is after its end.');
    return;
  }
  change({ range: 'custom', from, to });
});
$('departed').addEventListener('change', () => change({ departed: $('departed').checked }));
$('clear-filters').addEventListener('click', () => {
  view = { ...view, search: '', actions: [], resourceTypes: [], departed: false };
  writeView(view, { push: true });
  syncControls();
  load();
});
window.addEventListener('popstate', () => {
  view = readView();
  if (session.key) showViewer();
});
document.addEventListener('keydown', (e) => {
  if (e.key === '/' && !['INPUT', 'SELECT', 'TEXTAREA'].includes(document.activeElement?.tagName)) {
    e.preventDefault();
    $('search').focus();
  }
});

/** `datetime-local` works in local time without a zone; the URL and the API use UTC ISO. */
function toLocalInput(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return new Date(d.getTime() - d.getTimezoneOffset() * 60e3).toISOString().slice(0, 16);
}
function fromLocalInput(value) {
  return value ? new Date(value).toISOString() : undefined;
}

function renderFilterOptions(data = orgFacets) {
  orgFacets = data;
  const counts = new Map((data?.actions ?? []).map((a) => [a.value, a]));
  for (const a of data?.actions ?? []) destructive.set(a.value, a.destructive);
  const actionOptions = [
    ...[...counts.values()].sort((a, b) => a.value.localeCompare(b.value)),
    ...catalogue.eventTypes.filter((t) => !counts.has(t.value)),
  ];
  actionFilter.setOptions(actionOptions);
  const rtCounts = new Map((data?.resourceTypes ?? []).map((r) => [r.value, r]));
  resourceFilter.setOptions([
    ...[...rtCounts.values()].sort((a, b) => a.value.localeCompare(b.value)),
    ...catalogue.resourceTypes.filter((v) => !rtCounts.has(v)).map((value) => ({ value })),
  ]);
}

/** Loads the org's actions and resource types once per sign-in; the filter menus show them with counts. */
async function loadFacets() {
  try {
    const data = await api.facets({ includeDeparted: facetsDeparted ? 'true' : undefined });
    renderFilterOptions(data);
    return data;
  } catch (err) {
    // The catalogue alone still makes the filters usable; an auth problem shows up through the list.
    if (!(err instanceof ApiError)) throw err;
    facets = undefined;
  }
}

// --- The list ------------------------------------------------------------------------------------------------

function showState(kind, message, action) {
  const box = $('state');
  box.className = `state state-${kind}`;
  box.replaceChildren();
  if (!message) return;
  box.append(el('p', {}, message));
  if (action) box.append(action);
}

function skeleton() {
  return Array.from({ length: 8 }, () =>
    el(
      'tr',
      { class: 'skeleton', 'aria-hidden': 'true' },
      ...Array.from({ length: 4 }, () => el('td', {}, el('span'))),
    ),
  );
}

/** Starts the view from its first page; any answer for an older view is dropped. */
async function load() {
  query.abort?.abort();
  const generation = query.generation + 1;
  const abort = new AbortController();
  query = { generation, params: apiFilters(view), cursor: undefined, loading: true, seen: new Set(), abort };
  $('rows').replaceChildren(...skeleton());
  $('load-more').hidden = true;
  $('end-note').hidden = true;
  $('results').setAttribute('aria-busy', 'true');
  showState('loading', '');
  $('summary').textContent = 'Loading events…';
  try {
    const page = await api.list({ ...query.params, limit: PAGE_SIZE }, { signal: abort.signal });
    if (generation !== query.generation) return;
    $('rows').replaceChildren();
    appendPage(page);
  } catch (err) {
    if (generation === query.generation) failed(err);
  } finally {
    if (generation === query.generation) finishLoading();
  }
  // The rows come first: the aggregations start once they are on screen, so they never slow the first page.
  if (generation === query.generation && $('viewer').hidden === false) {
    loadHistogram(generation, abort.signal);
    if (facetsDeparted !== view.departed) {
      facetsDeparted = view.departed;
      facets = undefined;
    }
    facets ??= loadFacets();
  }
}

async function loadMore() {
  if (query.loading || !query.cursor) return; // never two requests for one cursor
  const { generation } = query;
  query.loading = true;
  const button = $('load-more');
  button.disabled = true;
  button.textContent = 'Loading…';
  try {
    const page = await api.list(
      { ...query.params, limit: PAGE_SIZE, cursor: query.cursor },
      { signal: query.abort.signal },
    );
    if (generation !== query.generation) return;
    appendPage(page);
  } catch (err) {
    if (generation === query.generation) failed(err);
  } finally {
    if (generation === query.generation) finishLoading();
  }
}
$('load-more').addEventListener('click', loadMore);

function finishLoading() {
  query.loading = false;
  $('results').removeAttribute('aria-busy');
  const button = $('load-more');
  button.disabled = false;
  button.textContent = 'Load more';
}

function appendPage(page) {
  const terms = searchTerms(view.search);
  const fresh = page.data.filter((entry) => !query.seen.has(entry.id));
  for (const entry of fresh) query.seen.add(entry.id);
  $('rows').append(
    ...fresh.map((entry) => entryRow(entry, { terms, isDestructive, onToggle: toggleDetail })),
  );
  query.cursor = page.nextCursor;
  $('load-more').hidden = !query.cursor;
  $('end-note').hidden = Boolean(query.cursor) || query.seen.size === 0;
  if (query.seen.size === 0) {
    const clear = el(
      'button',
      { type: 'button', class: 'btn', onclick: () => $('clear-filters').click() },
      'Clear filters',
    );
    showState(
      'empty',
      isFiltered(view)
        ? 'No events match these filters. Try other words, a wider date range, or clear the filters.'
        : `No events in this period (${RANGES[view.range].label.toLowerCase()}). Events appear here as soon as your applications record them.`,
      isFiltered(view) ? clear : undefined,
    );
  } else showState('ok', '');
  renderSummary();
}

function renderSummary() {
  const shown = query.seen.size;
  const total = query.total;
  const range = view.range === 'custom' ? 'custom range' : RANGES[view.range].label.toLowerCase();
  $('summary').replaceChildren(
    el('strong', {}, formatCount(shown)),
    total !== undefined && total >= shown ? ` of ${formatCount(total)}` : '',
    ` event${(total ?? shown) === 1 ? '' : 's'} · ${range}`,
  );
}

function failed(err) {
  if (err.name === 'AbortError') return;
  if (err instanceof ApiError && err.isAuth) {
    session.key = null;
    showSignIn(err);
    return;
  }
  $('rows')
    .querySelectorAll('.skeleton')
    .forEach((r) => r.remove());
  const retry = el(
    'button',
    { type: 'button', class: 'btn', onclick: () => (query.cursor ? loadMore() : load()) },
    'Try again',
  );
  showState('error', err instanceof ApiError ? err.message : `Something went wrong: ${err.message}`, retry);
  $('summary').textContent = '';
}

async function loadHistogram(generation, signal) {
  try {
    const data = await api.histogram(query.params, { signal });
    if (generation !== query.generation) return;
    query.total = data.total;
    renderHistogram($('histogram'), data, (from, to) => {
      view = { ...view, range: 'custom', from, to };
      writeView(view, { push: true });
      syncControls();
      load();
    });
    if (!query.loading) renderSummary();
  } catch (err) {
    if (err.name === 'AbortError') return;
    if (generation === query.generation) $('histogram').hidden = true;
    if (!(err instanceof ApiError)) console.error(err);
  }
}

// --- Row details ---------------------------------------------------------------------------------------------

async function toggleDetail(row, entry) {
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

// --- Export --------------------------------------------------------------------------------------------------

const exportMenu = $('export-menu');
const exportButton = $('export-button');
const exportList = exportMenu.querySelector('[role=menu]');
function setMenu(open) {
  exportList.hidden = !open;
  exportButton.setAttribute('aria-expanded', String(open));
  if (open) exportList.querySelector('button').focus();
}
exportButton.addEventListener('click', () => setMenu(exportList.hidden));
exportMenu.addEventListener('keydown', (e) => {
  if (e.key === 'Escape') {
    setMenu(false);
    exportButton.focus();
  }
});
document.addEventListener('pointerdown', (e) => {
  if (!exportMenu.contains(e.target)) setMenu(false);
});
exportList.addEventListener('click', async (e) => {
  const format = e.target.closest('button[data-format]')?.dataset.format;
  if (!format) return;
  setMenu(false);
  exportButton.disabled = true;
  const label = exportButton.lastChild;
  label.textContent = ' Exporting…';
  try {
    // The export uses the list's pinned filters, so its rows are exactly the rows of this view.
    const blob = await api.export({ ...query.params, format });
    const stamp = new Date().toISOString().slice(0, 16).replace(/[-:T]/g, '');
    const a = el('a', { href: URL.createObjectURL(blob), download: `audit-logs-${stamp}.${format}` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  } catch (err) {
    if (err instanceof ApiError && err.isAuth) showSignIn(err);
    else showState('error', `Export failed: ${err.message}`);
  } finally {
    exportButton.disabled = false;
    label.textContent = ' Export';
  }
});

// Relative hints ("3 min. ago") stay true while the page is open.
setInterval(() => {
  for (const t of document.querySelectorAll('#rows time')) {
    t.nextElementSibling.textContent = relativeTime(t.getAttribute('datetime'));
  }
}, 60_000);

if (session.key) showViewer();
else showSignIn();
