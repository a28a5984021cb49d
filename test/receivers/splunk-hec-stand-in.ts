/**
 * A contract stand-in for Splunk's HTTP Event Collector (no Splunk can run here), strict where HEC is:
 * `Authorization: Splunk <token>` (401 missing or malformed, 403 wrong), Splunk Cloud's 1 MB max content
 * length (413), a body of concatenated JSON envelopes whose keys are HEC's (`time`, `host`, `source`,
 * `sourcetype`, `index`, `fields`, `event`), a non-blank `event`, a known `index`; HEC's answers
 * (`{"text", "code"}`). With `ack` (the token has indexer acknowledgement) every request must name a
 * channel (a GUID), gets an `ackId`, and `/services/collector/ack?channel=` turns it true after `ackDelayMs`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import zlib from 'node:zlib';
import { answer, HttpsStandIn, type ServerFiles } from './https-stand-in.ts';

export interface HecEnvelope {
  time?: number;
  host?: string;
  source?: string;
  sourcetype?: string;
  index?: string;
  event: unknown;
}

export interface HecOptions {
  token: string;
  ack?: boolean;
  ackDelayMs?: number;
  indexes?: string[];
  /** Bytes a request may carry (a Splunk Enterprise or a proxy set lower than Splunk Cloud's 1 MB). */
  maxContentLength?: number;
}

const ENVELOPE_KEYS = new Set(['time', 'host', 'source', 'sourcetype', 'index', 'fields', 'event']);
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_CONTENT_LENGTH = 1_000_000;

/** Splits concatenated JSON values (`{…}{…}` or separated by whitespace); throws on anything else. */
export function splitConcatenated(text: string): unknown[] {
  const out: unknown[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    if (i >= text.length) break;
    if (text[i] !== '{') throw new Error(`expected an object at ${i}`);
    let depth = 0;
    let inString = false;
    let j = i;
    for (; j < text.length; j++) {
      const c = text[j];
      if (inString) {
        if (c === '\\') j++;
        else if (c === '"') inString = false;
      } else if (c === '"') inString = true;
      else if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        depth--;
        if (depth === 0) break;
      }
    }
    if (depth !== 0) throw new Error('unterminated object');
    out.push(JSON.parse(text.slice(i, j + 1)));
    i = j + 1;
  }
  return out;
}

export class SplunkHecStandIn {
  /** Every envelope accepted, in arrival order, with the ack id of its request (when acks are on). */
  readonly received: Array<{ envelope: HecEnvelope; ackId?: number; channel?: string }> = [];
  /** Ack queries answered. */
  ackQueries = 0;
  /** Set to hold every ack false (an indexer that never gets there). */
  holdAcks = false;
  private nextAckId = 0;
  private readonly ackedAt = new Map<string, number>();
  private readonly channels = new Set<string>();

  /** Forgets every channel and ack id, as a restarted HEC does. */
  restart(): void {
    this.channels.clear();
    this.ackedAt.clear();
  }

  private constructor(
    readonly http: HttpsStandIn,
    private readonly options: HecOptions,
  ) {}

  get url(): string {
    return this.http.url;
  }

  static async start(files: ServerFiles, options: HecOptions, port = 0): Promise<SplunkHecStandIn> {
    let self: SplunkHecStandIn | undefined;
    const http = await HttpsStandIn.start(
      files,
      options.maxContentLength ?? MAX_CONTENT_LENGTH,
      (req, body, res) => self!.handle(req, body, res),
      port,
    );
    self = new SplunkHecStandIn(http, options);
    return self;
  }

  /** True once the indexer has "indexed" the request with this ack id on this channel. */
  isAcked(channel: string, ackId: number): boolean {
    const at = this.ackedAt.get(`${channel}/${ackId}`);
    return !this.holdAcks && at !== undefined && at <= Date.now();
  }

  private handle(req: IncomingMessage, body: Buffer, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'https://x');
    if (req.method !== 'POST') return answer(res, 405, { text: 'Method not allowed', code: 6 });
    const auth = req.headers.authorization;
    if (!auth) return answer(res, 401, { text: 'Token is required', code: 2 });
    const m = /^Splunk (\S+)$/.exec(auth);
    if (!m) return answer(res, 401, { text: 'Invalid authorization', code: 3 });
    if (m[1] !== this.options.token) return answer(res, 403, { text: 'Invalid token', code: 4 });
    const channel = req.headers['x-splunk-request-channel'] ?? url.searchParams.get('channel') ?? undefined;
    if (this.options.ack || url.pathname === '/services/collector/ack') {
      if (!this.options.ack) return answer(res, 400, { text: 'ACK is disabled', code: 14 });
      if (!channel) return answer(res, 400, { text: 'Data channel is missing', code: 10 });
      if (typeof channel !== 'string' || !GUID.test(channel)) {
        return answer(res, 400, { text: 'Invalid data channel', code: 11 });
      }
    }
    if (url.pathname === '/services/collector/ack') return this.ackQuery(String(channel), body, res);
    if (url.pathname !== '/services/collector/event')
      return answer(res, 404, { text: 'Not found', code: 404 });

    const encoding = req.headers['content-encoding'];
    let text: string;
    try {
      if (encoding === 'gzip') text = zlib.gunzipSync(body).toString('utf8');
      else if (encoding === undefined || encoding === 'identity') text = body.toString('utf8');
      else return answer(res, 415, { text: `Unsupported content encoding ${encoding}`, code: 6 });
    } catch {
      return answer(res, 400, { text: 'Invalid data format', code: 6 });
    }
    if (text.trim() === '') return answer(res, 400, { text: 'No data', code: 5 });
    let values: unknown[];
    try {
      values = splitConcatenated(text);
    } catch {
      return answer(res, 400, { text: 'Invalid data format', code: 6 });
    }
    const envelopes: HecEnvelope[] = [];
    for (const [n, v] of values.entries()) {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) {
        return answer(res, 400, { text: 'Invalid data format', code: 6, 'invalid-event-number': n });
      }
      const env = v as Record<string, unknown>;
      if (Object.keys(env).some((k) => !ENVELOPE_KEYS.has(k))) {
        return answer(res, 400, { text: 'Invalid data format', code: 6, 'invalid-event-number': n });
      }
      if (!('event' in env)) return answer(res, 400, { text: 'Event field is required', code: 12, 'invalid-event-number': n }); // prettier-ignore
      if (env.event === '' || env.event === null) return answer(res, 400, { text: 'Event field cannot be blank', code: 13, 'invalid-event-number': n }); // prettier-ignore
      if (env.time !== undefined && (typeof env.time !== 'number' || !Number.isFinite(env.time))) {
        return answer(res, 400, { text: 'Invalid data format', code: 6, 'invalid-event-number': n });
      }
      for (const k of ['host', 'source', 'sourcetype', 'index']) {
        if (env[k] !== undefined && typeof env[k] !== 'string') {
          return answer(res, 400, { text: 'Invalid data format', code: 6, 'invalid-event-number': n });
        }
      }
      if (env.index !== undefined && !(this.options.indexes ?? ['main']).includes(env.index as string)) {
        return answer(res, 400, { text: 'Incorrect index', code: 7, 'invalid-event-number': n });
      }
      envelopes.push(env as unknown as HecEnvelope);
    }
    if (!this.options.ack) {
      for (const envelope of envelopes) this.received.push({ envelope });
      return answer(res, 200, { text: 'Success', code: 0 });
    }
    this.channels.add(String(channel));
    const ackId = this.nextAckId++;
    this.ackedAt.set(`${channel}/${ackId}`, Date.now() + (this.options.ackDelayMs ?? 300));
    for (const envelope of envelopes) this.received.push({ envelope, ackId, channel: String(channel) });
    answer(res, 200, { text: 'Success', code: 0, ackId });
  }

  private ackQuery(channel: string, body: Buffer, res: ServerResponse): void {
    let ids: unknown;
    try {
      ids = (JSON.parse(body.toString('utf8')) as { acks?: unknown }).acks;
    } catch {
      return answer(res, 400, { text: 'Invalid data format', code: 6 });
    }
    if (!Array.isArray(ids) || ids.some((id) => !Number.isInteger(id))) {
      return answer(res, 400, { text: 'Invalid data format', code: 6 });
    }
    if (!this.channels.has(channel)) return answer(res, 400, { text: 'Invalid data channel', code: 11 });
    this.ackQueries += 1;
    const acks: Record<string, boolean> = {};
    for (const id of ids as number[]) acks[String(id)] = this.isAcked(channel, id);
    answer(res, 200, { acks });
  }

  close(): Promise<void> {
    return this.http.close();
  }
}
