// The filter controls and the view they describe: kept in the URL (view-state.js), its menus offered with the
// org's own counts. The list is loaded again on every change (`initFilters({ onChange })`).
import { api, ApiError } from './api.js';
import { $, debounce } from './dom.js';
import { MultiSelect } from './multi-select.js';
import { DEFAULT_RANGE, isFiltered, RANGES, readView, writeView } from './view-state.js';

// The catalogue is inlined by the server: [{ value, destructive }] event types and the known resource types.
const catalogue = JSON.parse($('catalogue').textContent);
const destructive = new Map(catalogue.eventTypes.map((t) => [t.value, t.destructive]));
export const isDestructive = (action) => destructive.get(action) ?? false;

let view = readView();
/** The pending or finished facets request of this sign-in, and its answer. */
let facets;
/** Whether `facets` counts departed members' events (it follows the list's "include departed" switch). */
let facetsDeparted = false;
let orgFacets;
let hooks = { onChange: () => {}, showState: () => {} };

/** The filters on screen (`view-state.js` describes the shape). */
export const currentView = () => view;

const actionFilter = new MultiSelect($('action-filter'), (values) => change({ actions: values }));
const resourceFilter = new MultiSelect($('resource-filter'), (values) => change({ resourceTypes: values }));

/** Takes the view from the address again (Back, Forward). */
export function rereadView() {
  view = readView();
}

export function syncControls() {
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
  hooks.onChange();
}

/** A new view set from outside the controls (Clear filters, a window chosen on the histogram). */
function replaceView(patch) {
  view = { ...view, ...patch };
  writeView(view, { push: true });
  syncControls();
  hooks.onChange();
}

/** Shows the window chosen on the histogram as a custom range. */
export const selectWindow = (from, to) => replaceView({ range: 'custom', from, to });

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

/** Asks for the facets once the list is on screen, again only when "include departed" changed. */
export function refreshFacets() {
  if (facetsDeparted !== view.departed) {
    facetsDeparted = view.departed;
    facets = undefined;
  }
  facets ??= loadFacets();
}

/** Another key may see another org: its facets are asked for anew. */
export function forgetFacets() {
  facets = undefined;
  orgFacets = undefined;
}

/** `onChange()`: the view changed, load the list; `showState(kind, message)`: a word on the list's state. */
export function initFilters({ onChange, showState }) {
  hooks = { onChange, showState };
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
      hooks.showState('error', 'The start of the range is after its end.');
      return;
    }
    change({ range: 'custom', from, to });
  });
  $('departed').addEventListener('change', () => change({ departed: $('departed').checked }));
  $('clear-filters').addEventListener('click', () =>
    replaceView({ search: '', actions: [], resourceTypes: [], departed: false }),
  );
  document.addEventListener('keydown', (e) => {
    if (e.key === '/' && !['INPUT', 'SELECT', 'TEXTAREA'].includes(document.activeElement?.tagName)) {
      e.preventDefault();
      $('search').focus();
    }
  });
}
