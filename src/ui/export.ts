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
 * One CSV cell (RFC 4180). A cell a spreadsheet would run as a formula (starting with = + - @, or a tab / CR that
 * some spreadsheets strip first) gets a leading apostrophe, so an attacker-chosen description cannot execute
 * when an admin opens the export.
 */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let s = typeof value === 'string' ? value : JSON.stringify(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const CSV_HEADER = `${PUBLIC_FIELDS.join(',')}\r\n`;

export function csvRow(entry: AuditEntry): string {
  return `${PUBLIC_FIELDS.map((f) => csvCell(entry[f])).join(',')}\r\n`;
}

export function ndjsonLine(entry: AuditEntry): string {
  return `${JSON.stringify(entry)}\n`;
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
          if (!res.write(chunk)) {
            await new Promise((resolve) => {
              res.once('drain', resolve);
              res.once('close', resolve);
            });
          }
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
