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
 * First characters that start a formula: = + - @; ; and | (DDE payloads); the full-width ＝ ＋ － ＠ some
 * spreadsheets read as their ASCII forms; and whatever they may skip before evaluating: any whitespace or line
 * break (\s: tab, CR, LF, VT, FF, NBSP, U+2000-U+200A, U+2028/9, U+3000, BOM ...) and the zero-width
 * characters \s leaves out (U+180E, U+200B-U+200D, U+2060).
 */
const FORMULA_START = /^[=+\-@;|\s\u180E\u200B-\u200D\u2060\uFF1D\uFF0B\uFF0D\uFF20]/;

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

/**
 * One NDJSON line. U+2028 and U+2029 are valid raw in JSON but line breaks to JavaScript and to some line
 * readers, which would split the line; escaped, the line parses to the same entry.
 */
export function ndjsonLine(entry: AuditEntry): string {
  return `${JSON.stringify(entry).replace(/[\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`)}\n`;
}
