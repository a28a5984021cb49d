/**
 * The HTTPS webhook destination, signed per the Standard Webhooks spec: `webhook-id` is the batch id (the
 * same for every retry of the batch, so a receiver drops one it has), `webhook-timestamp` the attempt's time,
 * `webhook-signature` `v1,<base64 HMAC-SHA256>` over `id.timestamp.body` with the stream's `whsec_…` secret.
 */
import crypto from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import type { Batch, Destination, DestinationDeps, SendResult } from './destination.ts';
import { checkedUrl, failureOf, guardedAgents, request, resultOf } from './guarded-http.ts';

export interface WebhookSettings {
  url: string;
  secret: string;
  ca?: string;
}

/** A new `whsec_…` secret: 24 random bytes, base64. */
export const newWebhookSecret = () => `whsec_${crypto.randomBytes(24).toString('base64')}`;

export function webhookDestination(settings: WebhookSettings, deps: DestinationDeps): Destination {
  const agents = guardedAgents(deps.allowPrivate, settings.ca);
  const signer = new Webhook(settings.secret);
  return {
    maxBatch: 1000,
    async send(batch: Batch, signal: AbortSignal): Promise<SendResult> {
      const now = new Date();
      const body = JSON.stringify({
        type: 'audit_log.events',
        timestamp: now.toISOString(),
        data: batch.entries,
      });
      try {
        const url = checkedUrl(settings.url, deps.allowPrivate);
        const reply = await request(
          url,
          {
            headers: {
              'content-type': 'application/json',
              'user-agent': 'audit-log-service',
              'webhook-id': batch.id,
              'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
              'webhook-signature': signer.sign(batch.id, now, body),
            },
            body,
            agents,
          },
          signal,
        );
        return resultOf(reply, 'the webhook');
      } catch (err) {
        return failureOf(err, 'the webhook');
      }
    },
    async close() {
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}
