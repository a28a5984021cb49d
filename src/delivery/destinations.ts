/**
 * Which code delivers each stream type: the one registry of destination factories. A factory takes the
 * stream's full settings (secrets opened) and the service's dependencies. A type without a factory is
 * accepted by nothing: creating such a stream answers 400 on `type`.
 */
import os from 'node:os';
import type { Config, StreamsConfig } from '../config.ts';
import type { StreamDoc } from '../store/stream-configs.ts';
import type { Destination, DestinationDeps, StreamType } from './destination.ts';
import { s3Destination, type S3Settings } from './s3.ts';
import { StreamSecrets } from './stream-secrets.ts';
import { webhookDestination, type WebhookSettings } from './webhook.ts';

export type DestinationFactory = (settings: Record<string, unknown>, deps: DestinationDeps) => Destination;

export const DESTINATIONS: Partial<Record<StreamType, DestinationFactory>> = {
  webhook: (s, deps) => webhookDestination(s as unknown as WebhookSettings, deps),
  s3: (s, deps) => s3Destination(s as unknown as S3Settings, deps),
  // splunk_hec, datadog and syslog: their factories are registered here as their destinations land.
};

/** What the stream API and the delivery loop share: the secrets' key and the destinations' dependencies. */
export interface StreamEnv {
  secrets: StreamSecrets;
  deps: DestinationDeps;
  cfg: StreamsConfig;
}

export function streamEnv(cfg: Config): StreamEnv {
  return {
    secrets: new StreamSecrets(cfg),
    deps: { allowPrivate: cfg.streams.allowPrivate, hostName: os.hostname() },
    cfg: cfg.streams,
  };
}

/** The stream's destination, with its secrets opened; undefined for a type no factory delivers yet. */
export function openDestination(env: StreamEnv, doc: StreamDoc): Destination | undefined {
  const factory = DESTINATIONS[doc.type as StreamType];
  if (!factory) return undefined;
  return factory({ ...doc.settings, ...env.secrets.open(doc.id, doc.secrets) }, env.deps);
}
