/** Shared test setup: configuration, a running service and unique names, all against the real OpenSearch. */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../src/config.ts';
import { createStore, type Store } from '../src/store/client.ts';
import { startService, type RunningService } from '../src/server.ts';

export type TestConfig = Config & { opensearchUrl: string };

export function opensearchUrl(): string {
  const url = process.env.OPENSEARCH_URL;
  if (!url) throw new Error('OPENSEARCH_URL is not set: run the tests with `npm test`, which starts an engine');
  return url;
}

/** A configuration from a clean environment (nothing leaks in from the shell) plus `env`. */
export function testConfig(env: Record<string, string> = {}): TestConfig {
  const cfg = loadConfig({
    OPENSEARCH_URL: opensearchUrl(),
    PORT: '0',
    AUDIT_STATE_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'audit-state-')),
    AUDIT_LIFECYCLE_SWEEP_SECONDS: '0',
    ...env,
  });
  return cfg as TestConfig;
}

export function testStore(): Store {
  return createStore(opensearchUrl());
}

export async function startTestService(env: Record<string, string> = {}): Promise<RunningService> {
  return startService(testConfig(env));
}

/** A name no other test uses, e.g. `org_3f9a…`. */
export function uniqueId(prefix: string): string {
  return `${prefix}_${crypto.randomBytes(6).toString('hex')}`;
}
