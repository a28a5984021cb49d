/**
 * Which code delivers each stream type: the one registry of destination factories. A factory takes the
 * stream's full settings (secrets opened) and the service's dependencies.
 */
import os from 'node:os';
import type { Config, StreamsConfig } from '../config.ts';
import type { StreamDoc } from '../store/stream-configs.ts';
import type { Destination, DestinationDeps, StreamType } from './destination.ts';
import { createDatadogDestination, type DatadogSettings } from './datadog.ts';
import { s3Destination, type S3Settings } from './s3.ts';
import { createSplunkHecDestination, type SplunkHecSettings } from './splunk-hec.ts';
import { StreamSecrets } from './stream-secrets.ts';
import { createSyslogDestination, type SyslogSettings } from './syslog.ts';
import { webhookDestination, type WebhookSettings } from './webhook.ts';

export type DestinationFactory = (settings: Record<string, unknown>, deps: DestinationDeps) => Destination;

export const DESTINATIONS: Record<StreamType, DestinationFactory> = {
  webhook: (s, deps) => webhookDestination(s as unknown as WebhookSettings, deps),
  s3: (s, deps) => s3Destination(s as unknown as S3Settings, deps),
  splunk_hec: (s, deps) => createSplunkHecDestination(s as unknown as SplunkHecSettings, deps),
  datadog: (s, deps) => createDatadogDestination(s as unknown as DatadogSettings, deps),
  syslog: (s, deps) => createSyslogDestination(s as unknown as SyslogSettings, deps),
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

/** The stream's destination, with its secrets opened. */
export function openDestination(env: StreamEnv, doc: StreamDoc): Destination {
  return DESTINATIONS[doc.type as StreamType](
    { ...doc.settings, ...env.secrets.open(doc.id, doc.secrets) },
    env.deps,
  );
}
