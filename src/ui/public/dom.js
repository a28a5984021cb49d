// DOM and formatting helpers. Everything that shows API data goes through text nodes (never innerHTML), so an
// event description such as `<img onerror=…>` is displayed, not executed.

/** The page's element with this id. */
export const $ = (id) => document.getElementById(id);

/** Creates an element: `el('td', { class: 'x', title: 'y' }, child, 'text')`. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    node.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return node;
}

/** The words of a search, as the highlighter and the server see them (lower case, no empties). */
export function searchTerms(search) {
  return [
    ...new Set(
      search
        .toLowerCase()
        .split(/[\s"'(),;]+/)
        .filter((t) => t.length > 0),
    ),
  ];
}

const REGEX_SPECIALS = /[.*+?^${}()|[\]\\]/g;

/** `text` as nodes, with every occurrence of a search term wrapped in <mark>. */
export function highlighted(text, terms) {
  if (!terms.length || !text) return [text ?? ''];
  const pattern = new RegExp(`(${terms.map((t) => t.replace(REGEX_SPECIALS, '\\$&')).join('|')})`, 'gi');
  const parts = [];
  let last = 0;
  for (const m of text.matchAll(pattern)) {
    if (m.index > last) parts.push(text.slice(last, m.index));
    parts.push(el('mark', {}, m[0]));
    last = m.index + m[0].length;
  }
  if (last < text.length) parts.push(text.slice(last));
  return parts;
}

const absolute = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto', style: 'short' });

export function localTime(iso) {
  return absolute.format(new Date(iso));
}

/** "3 min. ago", "yesterday", "in 2 min." (a producer's clock may run slightly ahead). */
export function relativeTime(iso, now = Date.now()) {
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 45) return 'just now';
  const steps = [
    [3600, 60, 'minute'],
    [86400, 3600, 'hour'],
    [86400 * 30, 86400, 'day'],
    [86400 * 365, 86400 * 30, 'month'],
    [Infinity, 86400 * 365, 'year'],
  ];
  for (const [limit, unit, name] of steps) {
    if (abs < limit) return relative.format(Math.round(seconds / unit), name);
  }
  return '';
}

export function formatCount(n) {
  return new Intl.NumberFormat().format(n);
}

/** Debounces `fn` by `ms`; the returned function also has `.flush()` and `.cancel()`. */
export function debounce(fn, ms) {
  let timer;
  let pendingArgs;
  const run = () => {
    timer = undefined;
    fn(...pendingArgs);
  };
  const debounced = (...args) => {
    pendingArgs = args;
    clearTimeout(timer);
    timer = setTimeout(run, ms);
  };
  debounced.cancel = () => clearTimeout(timer);
  debounced.flush = () => {
    if (timer !== undefined) {
      clearTimeout(timer);
      run();
    }
  };
  return debounced;
}

/** A 16×16 stroke icon from one SVG path. */
export function icon(d, cls = 'icon') {
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', '0 0 16 16');
  svg.setAttribute('class', cls);
  svg.setAttribute('aria-hidden', 'true');
  const path = document.createElementNS('http://www.w3.org/2000/svg', 'path');
  path.setAttribute('d', d);
  svg.append(path);
  return svg;
}
