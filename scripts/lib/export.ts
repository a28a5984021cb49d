/**
 * `npm run export`, the work: every entry of an org matching the filters, newest first (the list API's
 * order), written to a file as NDJSON or CSV while it is read — `iterateEntries` pages with search_after, one
 * page in memory at a time, so memory stays flat for any number of records.
 *
 * Resumable: after each page the data is fsynced and a small sidecar `<out>.export-state.json` records the
 * last sort key, the record count and the file's byte length. `--resume` truncates the file to that length
 * (dropping anything half-written after the checkpoint) and continues after that sort key, so a resumed
 * export holds every record exactly once. The sidecar is removed when the export completes.
 */
import fs from 'node:fs';
import type { ReadScope } from '../../src/directory/access.ts';
import type { AuditEntry } from '../../src/events/schema.ts';
import type { Store } from '../../src/store/client.ts';
import { countMatching as countEventsMatching } from '../../src/store/events.ts';
import { buildQuery, indicesFor } from '../../src/query/build.ts';
import { queryFingerprint, type SortKey } from '../../src/query/cursor.ts';
import type { ListFilters } from '../../src/query/query-params.ts';
import { iterateEntries, sortKeyOf } from '../../src/query/search.ts';
import {
  CSV_HEADER,
  csvRow,
  EXPORT_FORMATS,
  ndjsonLine,
  type ExportFormat,
} from '../../src/query/export-format.ts';
import { UsageError } from './cli.ts';

export interface ExportState {
  version: 1;
  /** What was being exported: a resume must ask for the same thing. */
  query: string;
  format: ExportFormat;
  count: number;
  bytes: number;
  after?: SortKey;
}

export interface ExportJob {
  store: Store;
  scope: ReadScope;
  filters: ListFilters;
  format: ExportFormat;
  out: string;
  resume: boolean;
  /** Entries per page (and per checkpoint). */
  pageSize?: number;
}

export interface ExportHooks {
  /** Called once before writing: how many records match in total, and how many a resume already has. */
  onStart?: (total: number, already: number) => void;
  onRecords?: (n: number) => void;
}

export class ExportError extends Error {}

export const statePath = (out: string) => `${out}.export-state.json`;

/**
 * The format of the file: --format if given, else what the extension of --out names (.csv, .ndjson), else
 * NDJSON. A --format the extension contradicts is refused: x.csv holding NDJSON would open as garbage.
 */
export function exportFormatFor(out: string, given?: string): ExportFormat {
  const formats = Object.keys(EXPORT_FORMATS) as ExportFormat[];
  if (given !== undefined && !formats.includes(given as ExportFormat)) {
    throw new UsageError(`--format must be ndjson or csv (got "${given}")`);
  }
  const extension = /\.([^./\\]+)$/.exec(out)?.[1]?.toLowerCase();
  const named = formats.find((f) => EXPORT_FORMATS[f].extension === extension);
  if (given && named && given !== named) {
    throw new UsageError(`--out ${out} names a ${named} file but --format is ${given}; make them agree`);
  }
  return (given as ExportFormat | undefined) ?? named ?? 'ndjson';
}

/** Records matching the filters now (the progress bar's total). */
export async function countMatching(store: Store, scope: ReadScope, filters: ListFilters): Promise<number> {
  return countEventsMatching(store, indicesFor(filters), buildQuery(filters, scope));
}

function readState(out: string): ExportState | undefined {
  try {
    return JSON.parse(fs.readFileSync(statePath(out), 'utf8')) as ExportState;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ExportError(`cannot read ${statePath(out)}: ${(err as Error).message}`);
  }
}

function writeState(out: string, state: ExportState): void {
  const tmp = `${statePath(out)}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(state));
  fs.renameSync(tmp, statePath(out)); // atomic: the sidecar is always a whole, valid checkpoint
}

/** Where to start: a fresh file, or the checkpoint of an interrupted run (checked against this job). */
function startingPoint(job: ExportJob, query: string): ExportState {
  const fresh: ExportState = { version: 1, query, format: job.format, count: 0, bytes: 0 };
  const state = readState(job.out);
  const exists = fs.existsSync(job.out);
  if (!job.resume) {
    if (exists)
      throw new ExportError(`${job.out} already exists; pass --resume to continue it, or remove it`);
    if (state) fs.rmSync(statePath(job.out));
    return fresh;
  }
  if (!state) {
    if (exists) {
      throw new ExportError(
        `${job.out} exists but has no ${statePath(job.out)}: it is complete, or was not written by this tool; ` +
          'remove it to export again',
      );
    }
    return fresh; // nothing to resume: start
  }
  if (state.version !== 1 || state.query !== query || state.format !== job.format) {
    throw new ExportError(
      `${statePath(job.out)} belongs to an export with other filters, org or format; resume with the same ` +
        'arguments, or remove both files to start over',
    );
  }
  const size = exists ? fs.statSync(job.out).size : 0;
  if (size < state.bytes) {
    throw new ExportError(
      `${job.out} is shorter (${size} bytes) than its checkpoint (${state.bytes}); remove both files to start over`,
    );
  }
  return state;
}

export async function exportToFile(
  job: ExportJob,
  hooks: ExportHooks = {},
): Promise<{ count: number; bytes: number }> {
  const query = queryFingerprint(job.filters, job.scope);
  const state = startingPoint(job, query);
  const total = await countMatching(job.store, job.scope, job.filters);
  hooks.onStart?.(total, state.count);

  const fh = await fs.promises.open(job.out, state.bytes > 0 ? 'r+' : 'w');
  try {
    await fh.truncate(state.bytes); // drop whatever was written after the last checkpoint
    let position = state.bytes;
    const write = async (text: string) => {
      const buf = Buffer.from(text, 'utf8');
      await fh.write(buf, 0, buf.length, position);
      position += buf.length;
    };
    if (state.bytes === 0 && job.format === 'csv') await write(CSV_HEADER);

    const encode = job.format === 'csv' ? csvRow : ndjsonLine;
    const pageSize = job.pageSize ?? 1000;
    let chunk = '';
    let inChunk = 0;
    let last: AuditEntry | undefined;
    const checkpoint = async () => {
      await write(chunk);
      await fh.datasync(); // the data is durable before the checkpoint that points past it
      state.count += inChunk;
      state.bytes = position;
      if (last) state.after = sortKeyOf(last);
      writeState(job.out, state);
      hooks.onRecords?.(inChunk);
      chunk = '';
      inChunk = 0;
    };
    for await (const entry of iterateEntries(job.store, job.filters, job.scope, {
      pageSize,
      ...(state.after ? { after: state.after } : {}),
    })) {
      chunk += encode(entry);
      inChunk++;
      last = entry;
      if (inChunk >= pageSize) await checkpoint();
    }
    await checkpoint();
  } finally {
    await fh.close();
  }
  fs.rmSync(statePath(job.out), { force: true }); // complete: nothing to resume
  return { count: state.count, bytes: state.bytes };
}
