// The list of the view: its first page, "Load more", the summary line and the histogram above it.
import { api, ApiError, session } from './api.js';
import { $, el, formatCount, searchTerms } from './dom.js';
import { currentView, isDestructive, refreshFacets, selectWindow } from './filter-controls.js';
import { renderHistogram } from './histogram.js';
import { toggleDetail } from './row-detail.js';
import { entryRow } from './table.js';
import { apiFilters, isFiltered, RANGES } from './view-state.js';

const PAGE_SIZE = 50;

/** The list being shown: its pinned filters, cursor and the ids already on screen. */
let query = {
  generation: 0,
  params: {},
  cursor: undefined,
  loading: false,
  seen: new Set(),
  abort: undefined,
};
/** What a refused key leads to (the sign-in form), set by `initList`. */
let signIn = () => {};

/** The filters the list was loaded with: an export of them has exactly the rows of the list. */
export const listParams = () => query.params;

/** Drops the request in flight: its answer is no longer wanted. */
export function stopLoading() {
  query.abort?.abort();
}

export function showState(kind, message, action) {
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
export async function load() {
  query.abort?.abort();
  const generation = query.generation + 1;
  const abort = new AbortController();
  const params = apiFilters(currentView());
  query = { generation, params, cursor: undefined, loading: true, seen: new Set(), abort };
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
    refreshFacets();
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

function finishLoading() {
  query.loading = false;
  $('results').removeAttribute('aria-busy');
  const button = $('load-more');
  button.disabled = false;
  button.textContent = 'Load more';
}

function appendPage(page) {
  const view = currentView();
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
  const view = currentView();
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
    signIn(err);
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
    renderHistogram($('histogram'), data, selectWindow);
    if (!query.loading) renderSummary();
  } catch (err) {
    if (err.name === 'AbortError') return;
    if (generation === query.generation) $('histogram').hidden = true;
    if (!(err instanceof ApiError)) console.error(err);
  }
}

/** `showSignIn(err)`: where a key the API refuses leads. */
export function initList({ showSignIn }) {
  signIn = showSignIn;
  $('load-more').addEventListener('click', loadMore);
}
