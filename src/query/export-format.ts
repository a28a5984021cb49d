/**
 * The export formats, CSV and NDJSON, shared by the page's download (http/export-stream.ts) and the export
 * script: the same rows either way.
 */
import { stringify } from 'csv-stringify/sync';
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
 * A cell's text: JSON for what is not a string, empty for none. A cell a spreadsheet could run as a formula gets
 * a leading apostrophe, so an attacker-chosen description cannot execute when an admin opens the export (the
 * CLI export writes the same rows).
 */
function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  const s = typeof value === 'string' ? value : JSON.stringify(value);
  return FORMULA_START.test(s) ? `'${s}` : s;
}

/** RFC 4180 records: CRLF line ends, and a cell holding a lone CR or LF is quoted too. */
const CSV_OPTIONS = { record_delimiter: '\r\n', quoted_match: /[\r\n]/ };

/** One CSV record of these cells, written by csv-stringify over our formula guard. */
function csvLine(values: readonly unknown[]): string {
  return stringify([values.map(cellText)], CSV_OPTIONS);
}

/** One CSV cell as it stands in a record. */
export function csvCell(value: unknown): string {
  return csvLine([value]).slice(0, -2);
}

export const CSV_HEADER = csvLine(PUBLIC_FIELDS);

export function csvRow(entry: AuditEntry): string {
  return csvLine(PUBLIC_FIELDS.map((f) => entry[f]));
}

/**
 * One NDJSON line. U+2028 and U+2029 are valid raw in JSON but line breaks to JavaScript and to some line
 * readers, which would split the line; escaped, the line parses to the same entry.
 */
export function ndjsonLine(entry: AuditEntry): string {
  return `${JSON.stringify(entry).replace(/[\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`)}\n`;
}
