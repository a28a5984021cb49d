/**
 * One HTTPS POST to a receiver, for the HTTP destinations (Splunk HEC, Datadog): every connection goes
 * through the address guard, TLS verification is always on, the answer is read up to a bound (a hostile
 * receiver cannot fill our memory), and an answer's status becomes the SendResult the delivery loop acts on.
 */
import { Type } from '@sinclair/typebox';
import type { IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import { assertLiteralAllowed, guardedLookup } from './address-guard.ts';
import type { Destination, SendResult } from './destination.ts';
import { connectionFailure } from './receiver-tls.ts';

/** Enough of an answer to show in `…/test` and `lastError`; the rest is read and dropped. */
const REPLY_LIMIT = 16 * 1024;
/** A connection silent this long is dropped (the loop's signal bounds the whole send besides). */
const IDLE_TIMEOUT_MS = 60_000;

const PORT = '(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})';
const HOST = '([A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)*\\.?|\\[[0-9A-Fa-f:.]+\\])';

/**
 * An `https://` URL of a receiver: a host name or IP (no credentials in it), an optional port, and a path
 * when `withPath`. Only a malformed IPv6 literal gets past it to be refused by the URL parser (see below).
 */
export function HttpsUrl(withPath: boolean, description: string) {
  const path = withPath ? '(/[^\\s?#]*)?' : '/?';
  return Type.String({ pattern: `^https://${HOST}(:${PORT})?${path}$`, maxLength: 2048, description });
}

/** A destination whose settings cannot make a request (a URL the schema let through but URL refuses). */
export function unusableDestination(error: string): Destination {
  return { maxBatch: 1, send: async () => ({ ok: false, retryable: false, error }), close: async () => {} };
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  /** The answer's first 16 KiB, as text. */
  body: string;
}

/** A keep-alive agent for one destination: guarded lookups, its private CA (when given) instead of the defaults. */
export function receiverAgent(allowPrivate: boolean, ca?: string): https.Agent {
  return new https.Agent({
    keepAlive: true,
    maxSockets: 4,
    lookup: guardedLookup(allowPrivate),
    ...(ca ? { ca } : {}),
  });
}

/**
 * POSTs `body` and resolves with the answer, or with a failed SendResult when no answer came (refused address,
 * TLS, network, abort); what an answer means is left to the caller.
 */
export function tryPost(
  url: URL,
  agent: https.Agent,
  headers: Record<string, string>,
  body: Buffer,
  signal: AbortSignal,
  allowPrivate: boolean,
): Promise<Reply | SendResult> {
  const answer = new Promise<Reply>((resolve, reject) => {
    assertLiteralAllowed(url.hostname, allowPrivate);
    const req = https.request(url, {
      method: 'POST',
      agent,
      signal,
      timeout: IDLE_TIMEOUT_MS,
      headers: { ...headers, 'Content-Length': String(body.length) },
    });
    req.on('timeout', () => req.destroy(new Error(`no data for ${IDLE_TIMEOUT_MS / 1000} s`)));
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let kept = 0;
      res.on('data', (chunk: Buffer) => {
        if (kept < REPLY_LIMIT) chunks.push(chunk.subarray(0, REPLY_LIMIT - kept));
        kept += chunk.length;
      });
      res.on('error', reject);
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
    req.end(body);
  });
  return answer.catch((err: unknown) => connectionFailure(err, url.host, signal));
}

export function isReply(r: Reply | SendResult): r is Reply {
  return typeof (r as Reply).headers === 'object';
}

/** `Retry-After` (seconds or an HTTP date) in milliseconds, when the answer has a usable one. */
export function retryAfterMs(headers: IncomingHttpHeaders, now = Date.now()): number | undefined {
  const value = headers['retry-after'];
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * A non-2xx answer as a failed SendResult. 408, 425, 429 and 5xx are retried (honouring Retry-After); any other
 * answer (401/403 credentials, 404 or a redirect: a wrong URL, 400/413 a payload the receiver refuses) will
 * be the same again, so the stream turns `failing` with the cause and the receiver's words in `lastError`.
 */
export function failedAnswer(
  reply: Pick<Reply, 'status' | 'headers' | 'body'>,
  what: string,
): Extract<SendResult, { ok: false }> {
  const words = reply.body.replace(/\s+/g, ' ').trim().slice(0, 300);
  const retryable = [408, 425, 429].includes(reply.status) || reply.status >= 500;
  const cause = retryable
    ? ''
    : reply.status === 401 || reply.status === 403
      ? ' (the receiver refused the credentials)'
      : reply.status === 404
        ? ' (the receiver has no such endpoint)'
        : '';
  const after = retryAfterMs(reply.headers);
  return {
    ok: false,
    retryable,
    status: reply.status,
    error: `${what} answered ${reply.status}${cause}${words ? `: ${words}` : ''}`,
    ...(retryable && after !== undefined ? { retryAfterMs: after } : {}),
  };
}

/**
 * Splits serialized items, in order, into groups a receiver takes in one request: at most `maxCount`
 * items and `maxBytes` bytes counting one separator byte per item (`[`, `]` and commas, or newlines).
 * One item above `maxBytes` travels alone; the receiver decides what to do with it.
 */
export function packBySize(items: string[], maxBytes: number, maxCount: number): string[][] {
  const parts: string[][] = [];
  let current: string[] = [];
  let bytes = 1;
  for (const item of items) {
    const size = Buffer.byteLength(item) + 1;
    if (current.length > 0 && (bytes + size > maxBytes || current.length >= maxCount)) {
      parts.push(current);
      current = [];
      bytes = 1;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) parts.push(current);
  return parts;
}

/**
 * Sends the parts in order, one request each. A part answered 413 (a proxy or receiver with a lower limit
 * than documented) is halved and its halves sent in its place, so the batch still goes through; a single
 * item answered 413 fails. Resolves with the accepted answers, or the first failure.
 */
export async function postParts(
  parts: string[][],
  post: (part: string[]) => Promise<Reply | SendResult>,
  what: string,
): Promise<Reply[] | SendResult> {
  const queue = [...parts];
  const accepted: Reply[] = [];
  while (queue.length > 0) {
    const part = queue.shift()!;
    const reply = await post(part);
    if (!isReply(reply)) return reply;
    if (reply.status === 413 && part.length > 1) {
      const half = Math.ceil(part.length / 2);
      queue.unshift(part.slice(0, half), part.slice(half));
      continue;
    }
    if (reply.status < 200 || reply.status > 299) return failedAnswer(reply, what);
    accepted.push(reply);
  }
  return accepted;
}
