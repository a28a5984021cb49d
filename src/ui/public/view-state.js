// The view (search, filters, date range) lives in the URL so a copied link reproduces it. Defaults are left out
// of the URL to keep links short: `?q=onboarding&action=workflow.deleted&range=7d`.

export const RANGES = {
  '1h': { label: 'Past hour', ms: 3600e3 },
  '24h': { label: 'Past 24 hours', ms: 86400e3 },
  '7d': { label: 'Past 7 days', ms: 7 * 86400e3 },
  '30d': { label: 'Past 30 days', ms: 30 * 86400e3 },
  '90d': { label: 'Past 90 days', ms: 90 * 86400e3 },
  all: { label: 'All time' },
  custom: { label: 'Custom range' },
};
export const DEFAULT_RANGE = '30d';

const list = (v) => (v ? v.split(',').filter(Boolean) : []);
const validDate = (v) => (v && !Number.isNaN(new Date(v).getTime()) ? new Date(v).toISOString() : undefined);

export function readView(search = location.search) {
  const p = new URLSearchParams(search);
  const range = RANGES[p.get('range')] ? p.get('range') : DEFAULT_RANGE;
  return {
    search: p.get('q') ?? '',
    actions: list(p.get('action')),
    resourceTypes: list(p.get('resourceType')),
    range,
    from: range === 'custom' ? validDate(p.get('from')) : undefined,
    to: range === 'custom' ? validDate(p.get('to')) : undefined,
    departed: p.get('departed') === 'true',
  };
}

export function viewToQuery(view) {
  const p = new URLSearchParams();
  if (view.search.trim()) p.set('q', view.search.trim());
  if (view.actions.length) p.set('action', view.actions.join(','));
  if (view.resourceTypes.length) p.set('resourceType', view.resourceTypes.join(','));
  if (view.range !== DEFAULT_RANGE) p.set('range', view.range);
  if (view.range === 'custom') {
    if (view.from) p.set('from', view.from);
    if (view.to) p.set('to', view.to);
  }
  if (view.departed) p.set('departed', 'true');
  const s = p.toString();
  return s ? `?${s}` : '';
}

/** Writes the view into the address bar; `push` adds a history entry (Back undoes a filter change). */
export function writeView(view, { push }) {
  const url = `${location.pathname}${viewToQuery(view)}`;
  if (url === `${location.pathname}${location.search}`) return;
  history[push ? 'pushState' : 'replaceState'](null, '', url);
}

/** The API's filter parameters for a view; relative ranges are pinned to `now` so every page of one view agrees. */
export function apiFilters(view, now = Date.now()) {
  const range = RANGES[view.range];
  let startDate;
  let endDate;
  if (range.ms) startDate = new Date(now - range.ms).toISOString();
  if (view.range === 'custom') {
    startDate = view.from;
    endDate = view.to;
  }
  return {
    search: view.search.trim() || undefined,
    action: view.actions,
    resourceType: view.resourceTypes,
    startDate,
    endDate,
    includeDeparted: view.departed ? 'true' : undefined,
  };
}

export function isFiltered(view) {
  return Boolean(view.search.trim() || view.actions.length || view.resourceTypes.length || view.departed);
}
