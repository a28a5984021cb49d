/**
 * HTTP(S) requests of the destinations: every connection through the address guard (a `lookup` hook on the
 * agent, and IP literals checked before connecting), TLS verification always on (a destination may name its
 * own CA), plain http:// only when AUDIT_STREAM_ALLOW_PRIVATE is on (local receivers in tests and
 * development). Answers become SendResults in one place, so every destination backs off alike.
 */
import http from 'node:http';
import https from 'node:https';
import { AddressRefused, assertLiteralAllowed, guardedLookup } from './address-guard.ts';
import type { SendResult } from './destination.ts';
import { failedAnswer } from './https-post.ts';

export interface GuardedAgents {
  http: http.Agent;
  https: https.Agent;
}

export function guardedAgents(allowPrivate: boolean, ca?: string): GuardedAgents {
  const lookup = guardedLookup(allowPrivate) as never;
  return {
    http: new http.Agent({ keepAlive: true, lookup, maxSockets: 4 }),
    https: new https.Agent({ keepAlive: true, lookup, maxSockets: 4, ...(ca ? { ca } : {}) }),
  };
}

/** The URL, or AddressRefused when its scheme or literal address may not be connected to. */
export function checkedUrl(url: string, allowPrivate: boolean): URL {
  const u = new URL(url);
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && allowPrivate)) {
    throw new AddressRefused(
      `${u.protocol}// is refused: receivers are reached over https (AUDIT_STREAM_ALLOW_PRIVATE allows http for local receivers)`,
    );
  }
  assertLiteralAllowed(u.hostname, allowPrivate);
  return u;
}

export interface HttpReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The body's first 64 KB. */
  body: string;
}

const MAX_REPLY = 64 * 1024;

/** Sends one request; rejects on a connection failure, a refused address or `signal`. */
export function request(
  url: URL,
  opts: { method?: string; headers: Record<string, string>; body?: Buffer | string; agents: GuardedAgents },
  signal: AbortSignal,
): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const mod = url.protocol === 'https:' ? https : http;
    const req = mod.request(
      url,
      {
        method: opts.method ?? 'POST',
        headers: opts.headers,
        agent: url.protocol === 'https:' ? opts.agents.https : opts.agents.http,
        signal,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          if (size < MAX_REPLY) chunks.push(c);
          size += c.length;
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8').slice(0, MAX_REPLY),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** A reply as a SendResult: 2xx confirmed, anything else as https-post.ts's failedAnswer says. */
export function resultOf(reply: HttpReply, what: string): SendResult {
  if (reply.status >= 200 && reply.status < 300)
    return { ok: true, reply: `${reply.status} ${reply.body.trim().slice(0, 300)}`.trim() };
  return failedAnswer(reply, what);
}

/** A failure to connect or send as a SendResult: a refused address is final, anything else is retried. */
export function failureOf(err: unknown, what: string): SendResult {
  if (err instanceof AddressRefused) return { ok: false, retryable: false, error: `${what}: ${err.message}` };
  const e = err as { name?: string; code?: string; message?: string };
  const why =
    e.name === 'AbortError' || e.name === 'TimeoutError' ? 'did not answer in time' : (e.code ?? e.message);
  return { ok: false, retryable: true, error: `${what} unreachable: ${why}` };
}
