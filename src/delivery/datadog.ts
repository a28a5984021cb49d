/**
 * Datadog Logs, v2 intake: `POST <url>/api/v2/logs` with `DD-API-KEY`, a gzip JSON array of logs. Datadog
 * takes at most 1,000 logs and 5 MB (uncompressed) a request, so a batch may go as several requests; it is
 * delivered only when every one was accepted (a retry re-sends them all: each log carries the entry's id).
 * Datadog refuses timestamps older than 18 hours or more than 2 hours ahead: such an entry is sent without
 * one (Datadog stamps it on arrival) and keeps its own time in `audit.createdAt`, which every log carries.
 */
import { Type, type Static } from '@sinclair/typebox';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { AuditEntry } from '../events/schema.ts';
import type { Batch, Destination, DestinationDeps, SendResult } from './destination.ts';
import {
  HttpsUrl,
  packBySize,
  postParts,
  receiverAgent,
  tryPost,
  unusableDestination,
} from './https-post.ts';
import { PrivateCa } from './receiver-tls.ts';

export const DatadogSettings = Type.Object(
  {
    url: HttpsUrl(
      false,
      "the site's log intake, e.g. https://http-intake.logs.datadoghq.eu (/api/v2/logs is added)",
    ),
    apiKey: Type.String({ minLength: 1, maxLength: 256, description: 'Datadog API key (write-only)' }),
    service: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    tags: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 200, pattern: '^[^,]+$' }), { maxItems: 50 }),
    ),
    ca: Type.Optional(PrivateCa),
  },
  { additionalProperties: false },
);
export type DatadogSettings = Static<typeof DatadogSettings>;

/** Datadog's documented limits of one request (5 MB counted as 5,000,000 bytes, the stricter reading). */
export const DATADOG_MAX_LOGS = 1000;
export const DATADOG_MAX_BYTES = 5_000_000;
/** The timestamp window Datadog accepts, narrowed by a few minutes for clocks and time in flight. */
const MAX_PAST_MS = 18 * 3600_000 - 10 * 60_000;
const MAX_FUTURE_MS = 2 * 3600_000 - 10 * 60_000;
const SOURCE = 'audit-log';

const gzip = promisify(zlib.gzip);

/** The Datadog log of one entry; `now` decides whether its own time is still a timestamp Datadog takes. */
export function datadogLog(
  entry: AuditEntry,
  orgId: string,
  settings: DatadogSettings,
  hostName: string,
  now: number,
): Record<string, unknown> {
  const at = Date.parse(entry.createdAt);
  const inWindow = at >= now - MAX_PAST_MS && at <= now + MAX_FUTURE_MS;
  return {
    ddsource: SOURCE,
    service: settings.service ?? SOURCE,
    ddtags: [`org_id:${orgId}`, ...(settings.tags ?? [])].join(','),
    hostname: hostName,
    message: JSON.stringify(entry),
    ...(inWindow ? { timestamp: at } : {}),
    audit: { id: entry.id, createdAt: entry.createdAt, action: entry.action, orgId },
  };
}

/** A Datadog Logs destination for one site (`url`) and API key. */
export function createDatadogDestination(settings: DatadogSettings, deps: DestinationDeps): Destination {
  const intake = `${settings.url.replace(/\/+$/, '')}/api/v2/logs`;
  if (!URL.canParse(intake)) return unusableDestination(`url is not a valid URL: ${settings.url}`);
  const url = new URL(intake);
  const agent = receiverAgent(deps.allowPrivate, settings.ca);
  const headers = {
    'DD-API-KEY': settings.apiKey,
    'Content-Type': 'application/json',
    'Content-Encoding': 'gzip',
  };
  return {
    maxBatch: DATADOG_MAX_LOGS,
    async send(batch: Batch, signal: AbortSignal): Promise<SendResult> {
      const now = Date.now();
      const logs = batch.entries.map((e) =>
        JSON.stringify(datadogLog(e, batch.orgId, settings, deps.hostName, now)),
      );
      const parts = packBySize(logs, DATADOG_MAX_BYTES, DATADOG_MAX_LOGS);
      const post = async (part: string[]) =>
        tryPost(url, agent, headers, await gzip(`[${part.join(',')}]`), signal, deps.allowPrivate);
      const replies = await postParts(parts, post, 'Datadog');
      if (!Array.isArray(replies)) return replies;
      const last = replies.at(-1)!;
      const words = `${last.status} ${last.body.trim()}`.trim();
      return { ok: true, reply: replies.length > 1 ? `${words} (${replies.length} requests)` : words };
    },
    async close() {
      agent.destroy();
    },
  };
}
