/**
 * What a push-stream destination is to the delivery loop: something that takes one batch and says whether
 * the receiver confirmed it. The loop owns the cursor, retries and status; a destination only speaks its
 * receiver's protocol, and opens every connection through `guardedLookup` (address-guard.ts).
 */
import type { AuditEntry } from '../events/schema.ts';

export type StreamType = 'webhook' | 'splunk_hec' | 'datadog' | 's3' | 'syslog';

export interface Batch {
  /**
   * Stable for the same stream and the same first position, so a retry of a batch carries the same id
   * (the webhook-id, part of the S3 key): a receiver can drop a batch it already has.
   */
  id: string;
  orgId: string;
  /** Exactly as the API returns them, in stream order; never empty. */
  entries: AuditEntry[];
}

export type SendResult =
  /** The receiver confirmed the whole batch: the cursor may move past it. `reply` is shown by `…/test`. */
  | { ok: true; reply?: string }
  | {
      ok: false;
      /** False for answers a retry will not change (401, 403, 404, a refused address): the stream is `failing`. */
      retryable: boolean;
      /** From the receiver's Retry-After, when it gave one. */
      retryAfterMs?: number;
      /** The receiver's HTTP status, when there was one. */
      status?: number;
      /** Names the cause for the stream's `lastError`; never holds a secret. */
      error: string;
    };

export interface Destination {
  /** Delivers one batch; never throws for a receiver's failure (a SendResult says it), and stops on `signal`. */
  send(batch: Batch, signal: AbortSignal): Promise<SendResult>;
  /** Largest batch this receiver takes (e.g. Datadog: 1,000 entries). */
  readonly maxBatch: number;
  /** Releases connections (the syslog socket, the S3 client). */
  close(): Promise<void>;
}

/** What each destination factory is given besides its own settings. */
export interface DestinationDeps {
  /** AUDIT_STREAM_ALLOW_PRIVATE: loopback, private and link-local receivers allowed (metadata never). */
  allowPrivate: boolean;
  /** The service's host name, for envelopes that name a host (Splunk `host`, syslog HOSTNAME). */
  hostName: string;
}
