/** Streaming an export download: entries encoded in chunks, with backpressure, cut cleanly on failure. */
import type { Response } from 'express';
import type { AuditEntry } from '../events/schema.ts';
import { CSV_HEADER, csvRow, EXPORT_FORMATS, ndjsonLine, type ExportFormat } from '../query/export-format.ts';
import { logOf } from './observe.ts';

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
