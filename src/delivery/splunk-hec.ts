/**
 * Splunk HTTP Event Collector: `POST <url>/services/collector/event` with `Authorization: Splunk <token>`,
 * the body concatenated JSON envelopes, one per entry. With `ack` on (the HEC token has indexer
 * acknowledgement enabled) a batch counts as delivered only once Splunk says it is indexed: each request
 * carries this destination's channel, answers an `ackId`, and `/services/collector/ack` is polled until
 * every id is true. Without `ack`, a 200 means HEC accepted the events (it may still lose them in a crash).
 */
import { Type, type Static } from '@sinclair/typebox';
import { randomUUID } from 'node:crypto';
import type { Batch, Destination, DestinationDeps, SendResult } from './destination.ts';
import {
  failedAnswer,
  HttpsUrl,
  isReply,
  packBySize,
  postParts,
  receiverAgent,
  tryPost,
  unusableDestination,
} from './https-post.ts';
import { PrivateCa } from './receiver-tls.ts';

export const SplunkHecSettings = Type.Object(
  {
    url: HttpsUrl(
      true,
      'HEC base URL, e.g. https://splunk.example.com:8088 (/services/collector/event is added)',
    ),
    token: Type.String({ minLength: 1, maxLength: 256, description: 'HEC token (write-only)' }),
    index: Type.Optional(
      Type.String({ minLength: 1, maxLength: 80, pattern: '^[a-zA-Z0-9_][a-zA-Z0-9_-]*$' }),
    ),
    sourcetype: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    ack: Type.Optional(
      Type.Boolean({ description: 'wait for indexer acknowledgement before moving the cursor' }),
    ),
    ca: Type.Optional(PrivateCa),
  },
  { additionalProperties: false },
);
export type SplunkHecSettings = Static<typeof SplunkHecSettings>;

/** Splunk Cloud's HEC takes at most 1 MB a request (Enterprise's `max_content_length` may allow more). */
const MAX_REQUEST_BYTES = 1_000_000;
const MAX_BATCH = 1000;
const DEFAULT_SOURCETYPE = '_json';
/** Ack polling: first wait, growth, cap; and the longest wait for one batch when the loop sets no deadline. */
const ACK_FIRST_POLL_MS = 200;
const ACK_MAX_POLL_MS = 5_000;
const ACK_GIVE_UP_MS = 120_000;

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A Splunk HEC destination; `ack: true` needs a token with indexer acknowledgement enabled. */
export function createSplunkHecDestination(settings: SplunkHecSettings, deps: DestinationDeps): Destination {
  const base = settings.url.replace(/\/+$/, '');
  if (!URL.canParse(base)) return unusableDestination(`url is not a valid URL: ${settings.url}`);
  const eventUrl = new URL(`${base}/services/collector/event`);
  const agent = receiverAgent(deps.allowPrivate, settings.ca);
  // One stable channel per destination instance: HEC keeps ack ids per channel.
  const channel = randomUUID();
  const headers: Record<string, string> = {
    Authorization: `Splunk ${settings.token}`,
    'Content-Type': 'application/json',
    ...(settings.ack ? { 'X-Splunk-Request-Channel': channel } : {}),
  };
  const post = (url: URL, body: string, signal: AbortSignal) =>
    tryPost(url, agent, headers, Buffer.from(body), signal, deps.allowPrivate);

  const envelope = (orgId: string, entry: Batch['entries'][number]) =>
    JSON.stringify({
      time: Date.parse(entry.createdAt) / 1000,
      host: deps.hostName,
      source: `audit-log:${orgId}`,
      sourcetype: settings.sourcetype ?? DEFAULT_SOURCETYPE,
      ...(settings.index ? { index: settings.index } : {}),
      event: entry,
    });

  /** Polls the ack endpoint until every id is indexed; a SendResult when it fails or runs out of time. */
  async function awaitAcks(ids: number[], signal: AbortSignal): Promise<SendResult> {
    const ackUrl = new URL(`${base}/services/collector/ack`);
    ackUrl.searchParams.set('channel', channel);
    const giveUp = AbortSignal.any([signal, AbortSignal.timeout(ACK_GIVE_UP_MS)]);
    let pending = ids;
    let wait = ACK_FIRST_POLL_MS;
    while (pending.length > 0) {
      await sleep(wait, giveUp);
      if (giveUp.aborted) {
        return {
          ok: false,
          retryable: true,
          error: `HEC did not acknowledge ack ids ${pending.join(', ')} in time`,
        };
      }
      wait = Math.min(wait * 2, ACK_MAX_POLL_MS);
      const reply = await post(ackUrl, JSON.stringify({ acks: pending }), giveUp);
      if (!isReply(reply)) return reply;
      // A restarted HEC forgets channels and ack ids (400 "Invalid data channel"): sending again recovers.
      if (reply.status === 400) return { ...failedAnswer(reply, 'HEC ack'), retryable: true };
      if (reply.status !== 200) return failedAnswer(reply, 'HEC ack');
      const acks = parseJson(reply.body)?.acks as Record<string, unknown> | undefined;
      if (!acks || typeof acks !== 'object') {
        return {
          ok: false,
          retryable: true,
          error: `HEC ack answered without acks: ${reply.body.slice(0, 200)}`,
        };
      }
      pending = pending.filter((id) => acks[String(id)] !== true);
    }
    return { ok: true };
  }

  return {
    maxBatch: MAX_BATCH,
    async send(batch: Batch, signal: AbortSignal): Promise<SendResult> {
      const envelopes = batch.entries.map((e) => envelope(batch.orgId, e));
      const parts = packBySize(envelopes, MAX_REQUEST_BYTES, MAX_BATCH);
      const replies = await postParts(parts, (part) => post(eventUrl, part.join('\n'), signal), 'HEC');
      if (!Array.isArray(replies)) return replies;
      const last = replies.at(-1)!.body.trim();
      const ackIds: number[] = [];
      for (const reply of settings.ack ? replies : []) {
        const ackId = parseJson(reply.body)?.ackId;
        if (typeof ackId !== 'number') {
          return {
            ok: false,
            retryable: false,
            status: reply.status,
            error: 'ack is on but HEC answered no ackId: enable indexer acknowledgement on the HEC token',
          };
        }
        ackIds.push(ackId);
      }
      if (!settings.ack) return { ok: true, reply: last };
      const acked = await awaitAcks(ackIds, signal);
      return acked.ok ? { ok: true, reply: `${last}; indexed (ack ids ${ackIds.join(', ')})` } : acked;
    },
    async close() {
      agent.destroy();
    },
  };
}
