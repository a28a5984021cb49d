/**
 * Export of a filtered view as CSV or NDJSON, streamed: entries come from `iterateEntries` (search_after, so
 * memory stays flat however large the export) and are written as they arrive, with backpressure.
 */
import type { Response } from 'express';
import { PUBLIC_FIELDS, type AuditEntry } from '../events/schema.ts';
import { logOf } from '../http/observe.ts';

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

/** Waits for the client to take more, or to go; removes both listeners, as a long export waits many times. */
function drainOrClose(res: Response): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** Entries per write: large enough to keep syscalls few, small enough to start the download at once. */
const CHUNK_ENTRIES = 500;

/**
 * Streams `entries` to `res`. The first entry is fetched before any header is sent, so a failing store still
 * answers with a proper error status. A failure mid-stream destroys the connection: the client sees a broken
 * download, never a file that looks complete but is not.
 */
export async function streamExport(
  res: Response,
  entries: AsyncGenerator<AuditEntry>,
  format: ExportFormat,
  filename: string,
): Promise<void> {
  const encode = format === 'csv' ? csvRow : ndjsonLine;
  const first = await entries.next();
  res.status(200).set({
    'Content-Type': EXPORT_FORMATS[format].contentType,
    'Content-Disposition': `attachment; filename="${filename}.${EXPORT_FORMATS[format].extension}"`,
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  let closed = false;
  res.on('close', () => (closed = true));
  let chunk = format === 'csv' ? CSV_HEADER : '';
  let n = 0;
  try {
    if (!first.done) {
      chunk += encode(first.value);
      n++;
    }
    for (let next = first; !next.done && !closed;) {
      next = await entries.next();
      if (!next.done) {
        chunk += encode(next.value);
        if (++n % CHUNK_ENTRIES === 0) {
          if (!res.write(chunk)) await drainOrClose(res);
          chunk = '';
        }
      }
    }
    res.end(chunk);
  } catch (err) {
    logOf(res).error({ err }, 'export failed mid-stream');
    res.destroy(err as Error);
  } finally {
    await entries.return(undefined);
  }
}
