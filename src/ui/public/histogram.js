// Events over time for the current filters, as an SVG bar chart. Clicking a bar narrows the view to its span.
import { el, formatCount } from './dom.js';

const SVG = 'http://www.w3.org/2000/svg';
const svgEl = (tag, attrs) => {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
};

/** Axis labels: time of day for sub-day buckets, the year when the span is not within this year. */
function formatter(intervalMs, first, last) {
  const withYear =
    first.getFullYear() !== last.getFullYear() || first.getFullYear() !== new Date().getFullYear();
  return new Intl.DateTimeFormat(undefined, {
    month: 'short',
    day: 'numeric',
    ...(withYear ? { year: 'numeric' } : {}),
    ...(intervalMs < 86400e3 ? { hour: '2-digit', minute: '2-digit' } : {}),
  });
}

const UNIT = { m: 'minute', h: 'hour', d: 'day' };
/** `7d` → "week", `3h` → "3 hours". */
function intervalWords(interval) {
  if (interval === '7d') return 'week';
  const n = Number(interval.slice(0, -1));
  const unit = UNIT[interval.slice(-1)] ?? interval;
  return n === 1 ? unit : `${n} ${unit}s`;
}

/** `data` = { interval, intervalMs, buckets: [{ start, count }] }; `onSelect(fromIso, toIso)`. */
export function renderHistogram(figure, data, onSelect) {
  figure.replaceChildren();
  const buckets = data?.buckets ?? [];
  if (buckets.length === 0) {
    figure.hidden = true;
    return;
  }
  figure.hidden = false;
  const total = buckets.reduce((s, b) => s + b.count, 0);
  const max = Math.max(1, ...buckets.map((b) => b.count));
  const width = 1000;
  const height = 64;
  const slot = width / buckets.length;
  const gap = Math.min(2, slot * 0.2);
  const first = new Date(buckets[0].start);
  const last = new Date(buckets[buckets.length - 1].start);
  const fmt = formatter(data.intervalMs, first, last);
  const svg = svgEl('svg', {
    viewBox: `0 0 ${width} ${height}`,
    preserveAspectRatio: 'none',
    class: 'histogram-chart',
    role: 'img',
    'aria-label': `Events over time: ${formatCount(total)} in ${buckets.length} intervals`,
  });
  buckets.forEach((b, i) => {
    const h = b.count === 0 ? 0 : Math.max(2, (b.count / max) * (height - 2));
    const hit = svgEl('rect', { x: i * slot, y: 0, width: slot, height, class: 'hist-hit' });
    const bar = svgEl('rect', {
      x: i * slot + gap / 2,
      y: height - h,
      width: Math.max(0.5, slot - gap),
      height: h,
      class: 'hist-bar',
    });
    const end =
      buckets[i + 1]?.start ??
      (data.intervalMs ? new Date(new Date(b.start).getTime() + data.intervalMs).toISOString() : undefined);
    const title = svgEl('title', {});
    title.textContent = `${fmt.format(new Date(b.start))}: ${formatCount(b.count)} event${b.count === 1 ? '' : 's'}`;
    const group = svgEl('g', { class: b.count ? 'hist-group' : 'hist-group empty' });
    group.append(title, hit, bar);
    if (b.count && end)
      group.addEventListener('click', () =>
        onSelect(b.start, new Date(new Date(end).getTime() - 1).toISOString()),
      );
    svg.append(group);
  });
  figure.append(
    svg,
    el(
      'figcaption',
      { class: 'histogram-axis' },
      el('span', {}, fmt.format(first)),
      el(
        'span',
        { class: 'muted' },
        // With nothing in range there is no peak to speak of (max is floored at 1 only to scale the bars).
        total === 0 ? 'no events' : `peak ${formatCount(max)} per ${intervalWords(data.interval)}`,
      ),
      el('span', {}, fmt.format(last)),
    ),
  );
}
