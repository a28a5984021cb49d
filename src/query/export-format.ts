/**
 * The export formats, CSV and NDJSON, shared by the page's download (http/export-stream.ts) and the export
 * script: the same rows either way.
 */
import { PUBLIC_FIELDS, type AuditEntry } from '../events/schema.ts';

export const EXPORT_FORMATS = {
  csv: { contentType: 'text/csv; charset=utf-8', extension: 'csv' },
  ndjson: { contentType: 'application/x-ndjson; charset=utf-8', extension: 'ndjson' },
} as const;
export type ExportFormat = keyof typeof EXPORT_FORMATS;

/**
 * First characters that start a formula: = + - @, the leading whitespace and line breaks some spreadsheets skip
 * before evaluating, ; and | (DDE payloads), and the full-width ＝ ＋ － ＠ some read as their ASCII forms.
 */
const FORMULA_START = /^[=+\-@\t\r\n ;|\uFF1D\uFF0B\uFF0D\uFF20]/;

/**
 * One CSV cell (RFC 4180). A cell a spreadsheet could run as a formula gets a leading apostrophe, so an
 * attacker-chosen description cannot execute when an admin opens the export (the CLI export writes the same rows).
 */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let s = typeof value === 'string' ? value : JSON.stringify(value);
  if (FORMULA_START.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const CSV_HEADER = `${PUBLIC_FIELDS.join(',')}\r\n`;

export function csvRow(entry: AuditEntry): string {
  return `${PUBLIC_FIELDS.map((f) => csvCell(entry[f])).join(',')}\r\n`;
}

export function ndjsonLine(entry: AuditEntry): string {
  return `${JSON.stringify(entry)}\n`;
}
