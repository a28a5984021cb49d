/**
 * A contract stand-in for Datadog's v2 log intake (no Datadog can run here), strict where the intake is
 * documented: `POST /api/v2/logs`, `DD-API-KEY` (401 missing, 403 wrong), JSON (`Content-Type`), gzip or no
 * content encoding (415 otherwise, 400 when the body is not what the header says), at most 5 MB
 * uncompressed and 1,000 logs a request (413), timestamps within 18 hours past / 2 hours ahead. It is
 * stricter than Datadog in two ways that catch sender mistakes: every log must carry our fields
 * (`ddsource`, `service`, `ddtags`, `hostname`, `message`), and an out-of-window timestamp fails the
 * request (400) where Datadog would drop that log silently. Accepted requests are answered 202.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import zlib from 'node:zlib';
import { answer, HttpsStandIn, type ServerFiles } from './https-stand-in.ts';

export const INTAKE_MAX_BYTES = 5_000_000;
export const INTAKE_MAX_LOGS = 1000;
const MAX_PAST_MS = 18 * 3600_000;
const MAX_FUTURE_MS = 2 * 3600_000;
const REQUIRED = ['ddsource', 'service', 'ddtags', 'hostname', 'message'];

export type DatadogLog = Record<string, unknown> & { message: string; timestamp?: number };

export class DatadogStandIn {
  /** Every log accepted, in arrival order. */
  readonly received: DatadogLog[] = [];
  /** Accepted requests (a batch may need several). */
  accepted = 0;

  private constructor(
    readonly http: HttpsStandIn,
    private readonly apiKey: string,
    private readonly maxBytes: number,
  ) {}

  get url(): string {
    return this.http.url;
  }

  /** `maxBytes`: a lower limit than Datadog's (a proxy in front of it), on the uncompressed body. */
  static async start(
    files: ServerFiles,
    apiKey: string,
    port = 0,
    maxBytes = INTAKE_MAX_BYTES,
  ): Promise<DatadogStandIn> {
    let self: DatadogStandIn | undefined;
    const http = await HttpsStandIn.start(
      files,
      INTAKE_MAX_BYTES + 1,
      (req, body, res) => self!.handle(req, body, res),
      port,
    );
    self = new DatadogStandIn(http, apiKey, maxBytes);
    return self;
  }

  private handle(req: IncomingMessage, body: Buffer, res: ServerResponse): void {
    const fail = (status: number, detail: string) => answer(res, status, { errors: [{ status: String(status), detail }] }); // prettier-ignore
    if (req.method !== 'POST' || new URL(req.url ?? '/', 'https://x').pathname !== '/api/v2/logs') {
      return fail(404, 'not found');
    }
    const key = req.headers['dd-api-key'];
    if (!key) return fail(401, 'API key is missing');
    if (key !== this.apiKey) return fail(403, 'Forbidden: invalid API key');
    if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) return fail(400, 'Content-Type must be application/json'); // prettier-ignore
    const encoding = req.headers['content-encoding'];
    let raw: Buffer;
    try {
      if (encoding === 'gzip') raw = zlib.gunzipSync(body, { maxOutputLength: this.maxBytes + 1 });
      else if (encoding === undefined || encoding === 'identity') raw = body;
      else return fail(415, `unsupported Content-Encoding ${encoding}`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE')
        return fail(413, 'payload above 5 MB');
      return fail(400, 'the body is not gzip');
    }
    if (raw.length > this.maxBytes) return fail(413, `payload above ${this.maxBytes} bytes`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw.toString('utf8'));
    } catch {
      return fail(400, 'invalid JSON');
    }
    const logs = Array.isArray(parsed) ? parsed : [parsed];
    if (logs.length > INTAKE_MAX_LOGS)
      return fail(413, `${logs.length} logs: at most ${INTAKE_MAX_LOGS} a request`);
    const now = Date.now();
    for (const [n, log] of logs.entries()) {
      if (log === null || typeof log !== 'object' || Array.isArray(log))
        return fail(400, `log ${n} is not an object`);
      const l = log as Record<string, unknown>;
      const missing = REQUIRED.find((k) => typeof l[k] !== 'string' || l[k] === '');
      if (missing) return fail(400, `log ${n} has no ${missing}`);
      if (l.timestamp !== undefined) {
        if (typeof l.timestamp !== 'number')
          return fail(400, `log ${n}: timestamp is not epoch milliseconds`);
        if (l.timestamp < now - MAX_PAST_MS || l.timestamp > now + MAX_FUTURE_MS) {
          return fail(400, `log ${n}: timestamp outside the accepted window`);
        }
      }
    }
    this.accepted += 1;
    this.received.push(...(logs as DatadogLog[]));
    answer(res, 202, {});
  }

  close(): Promise<void> {
    return this.http.close();
  }
}
