/** Index names. Audit events live in one index per UTC day; internal data in `audit-internal-*`. */
import { DAY_MS } from '../days.ts';

export const AUDIT_INDEX_PREFIX = 'audit-logs-';
export const AUDIT_INDEX_PATTERN = `${AUDIT_INDEX_PREFIX}*`;
export const TEMPLATE_NAME = 'audit-logs';
export const ISM_POLICY_ID = 'audit-logs-lifecycle';

/** `audit-logs-YYYY.MM.DD` for the UTC day of `date`. */
export function dayIndex(date: Date | string): string {
  const iso = (typeof date === 'string' ? new Date(date) : date).toISOString();
  return `${AUDIT_INDEX_PREFIX}${iso.slice(0, 4)}.${iso.slice(5, 7)}.${iso.slice(8, 10)}`;
}

/** The UTC midnight of a day index's day, or undefined for a name that is not a day index. */
export function dayOfIndex(index: string): Date | undefined {
  const m = /^audit-logs-(\d{4})\.(\d{2})\.(\d{2})$/.exec(index);
  if (!m) return undefined;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return Number.isNaN(d.getTime()) ? undefined : d;
}

export const MONTH_INDEX_PREFIX = 'audit-month-';

/**
 * `audit-month-YYYY.MM`: the month index that the sealed days of a month are consolidated into. Its name is
 * outside the audit pattern on purpose: only its filtered day aliases (named like the day indices they
 * replaced, see lifecycle/consolidate.ts) and reads that know it is swapped in (store/read-layout.ts,
 * readTargets) reach it, so nothing sees it before its days are swapped in.
 */
export function monthIndex(date: Date | string): string {
  return `${MONTH_INDEX_PREFIX}${dayIndex(date).slice(AUDIT_INDEX_PREFIX.length, -3)}`;
}

/**
 * An alias a month index carries while retention deletes some of its days' events: set in the same request
 * that takes those days' aliases off, removed once their events are gone. Reads never name a month that
 * carries it, so its expired events cannot show meanwhile. Its name is outside the audit pattern.
 */
export const expiringMarker = (month: string) => `audit-expiring-${month.slice(MONTH_INDEX_PREFIX.length)}`;

/** The UTC midnight of the first day of a month index's month, or undefined for another name. */
export function monthOfIndex(index: string): Date | undefined {
  const m = /^audit-month-(\d{4})\.(\d{2})$/.exec(index);
  if (!m) return undefined;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, 1));
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** The month indices an audit pattern's days belong to: `audit-logs-2024.*` → `audit-month-2024.*`. */
export const monthPattern = (pattern: string) =>
  pattern
    .split(',')
    .map((p) => MONTH_INDEX_PREFIX + p.slice(AUDIT_INDEX_PREFIX.length))
    .join(',');

/**
 * The day index a stored event belongs to, from the index a search found it in: a month index answers for
 * its days, so an event found there is named by the day of its createdAt — unless that day is not in the
 * month (a copy placed there by hand), which keeps the month's name and so never matches a ledger entry.
 */
export function dayIndexOfHit(index: string, createdAt: string | undefined): string {
  const at = typeof createdAt === 'string' ? new Date(createdAt) : undefined;
  if (!monthOfIndex(index) || !at || Number.isNaN(at.getTime())) return index;
  return monthIndex(at) === index ? dayIndex(at) : index;
}

/**
 * The day indices a createdAt range touches (inclusive), or the whole pattern when the range is open or
 * longer than `maxDays` (a long list costs more than the pattern).
 */
export function indicesForRange(start?: Date, end?: Date, maxDays = 100): string {
  if (!start || !end) return AUDIT_INDEX_PATTERN;
  // Whole days since the epoch: Date.UTC would read the years 0-99 as 1900-1999.
  const first = Math.floor(start.getTime() / DAY_MS) * DAY_MS;
  const days = Math.floor((end.getTime() - first) / DAY_MS) + 1;
  if (days > maxDays) return AUDIT_INDEX_PATTERN;
  const names: string[] = [];
  for (let i = 0; i < Math.max(days, 0); i++) names.push(dayIndex(new Date(first + i * DAY_MS)));
  return names.join(',');
}

/**
 * The `_id` of a record of one org (member, workspace, event, ledger entry, seal): `<org>:<key>`, the org
 * percent-encoded so it never holds the `:` that ids may contain. Without that, org `acme` + `x:alice` and
 * org `acme:x` + `alice` would be one document. An org id without `:` is spelled as it is.
 */
export const orgRecordId = (orgId: string, key: string) => `${encodeURIComponent(orgId)}:${key}`;

/**
 * The `_id` of an event in its day index and of its ledger entry. Event ids are unique per org, not across
 * orgs, so the id carries the org: two orgs may use the same event id without colliding or learning of
 * each other.
 */
export const eventDocId = (orgId: string, eventId: string) => orgRecordId(orgId, eventId);

/**
 * Where an event of an org with `:` in its id was stored before orgRecordId: `<orgId>:<eventId>`, which may
 * also be another org's id. Day indices are append-only, so such events cannot be moved: they are read there,
 * and only when their own orgId field says they are this org's (store/events.ts, getEvents). Never written.
 */
export const legacyEventDocId = (orgId: string, eventId: string) => `${orgId}:${eventId}`;

/** Internal indices (directory, ledger, seals …), each defined by `index-templates/internal/<name>.json`. */
export const INTERNAL = {
  orgs: 'audit-internal-orgs',
  workspaces: 'audit-internal-workspaces',
  members: 'audit-internal-members',
  membership: 'audit-internal-membership',
  apiKeys: 'audit-internal-api-keys',
  ledger: 'audit-internal-ledger',
  seals: 'audit-internal-seals',
  tree: 'audit-internal-tree',
  treeHeads: 'audit-internal-tree-heads',
  service: 'audit-internal-service',
  streams: 'audit-internal-streams',
} as const;

/** Most clauses the store puts in one query (OpenSearch allows 1,024 by default). */
export const MAX_QUERY_CLAUSES = 500;
