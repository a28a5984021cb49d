/** Shared test setup: configuration, a running service and unique names, all against the real OpenSearch. */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../src/config.ts';
import type { AppContext } from '../src/context.ts';
import { createApiKey } from '../src/directory/api-keys.ts';
import { putOrg } from '../src/directory/orgs.ts';
import { createStore, type Store } from '../src/store/client.ts';
import { startService, type RunningService } from '../src/server.ts';

export type TestConfig = Config & { opensearchUrl: string };

export function opensearchUrl(): string {
  const url = process.env.OPENSEARCH_URL;
  if (!url)
    throw new Error('OPENSEARCH_URL is not set: run the tests with `npm test`, which starts an engine');
  return url;
}

/**
 * One fixed Ed25519 signing key (test-only, derived from a fixed seed) for every test service: test files
 * share one engine, and whichever service leads the sealer signs every org's seals, so all must sign alike.
 */
export const TEST_SIGNING_KEY_PEM = crypto
  .createPrivateKey({
    key: Buffer.concat([
      Buffer.from('302e020100300506032b657004220420', 'hex'), // PKCS#8 prefix of an Ed25519 seed
      crypto.createHash('sha256').update('audit-log-service test signing key').digest(),
    ]),
    format: 'der',
    type: 'pkcs8',
  })
  .export({ type: 'pkcs8', format: 'pem' })
  .toString();

/** A configuration from a clean environment (nothing leaks in from the shell) plus `env`. */
export function testConfig(env: Record<string, string> = {}): TestConfig {
  const cfg = loadConfig({
    OPENSEARCH_URL: opensearchUrl(),
    PORT: '0',
    AUDIT_STATE_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'audit-state-')),
    AUDIT_LIFECYCLE_SWEEP_SECONDS: '0',
    AUDIT_SIGNING_KEY: TEST_SIGNING_KEY_PEM,
    // Tests that look at log lines hand the service a memoryLogger; nothing else prints.
    LOG_LEVEL: 'silent',
    // An in-process service shares the test runner's memory, which says nothing of its own: no memory gate.
    AUDIT_INGEST_MEMORY_MB: '1000000',
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

/** An enterprise org created through the directory (as the operator API does); returns its id. */
export async function seedOrg(ctx: AppContext, orgId = uniqueId('org')): Promise<string> {
  await putOrg(ctx, orgId, { name: `Org ${orgId}`, plan: 'enterprise' });
  return orgId;
}

/** An ingest key created through the directory, bound to `orgId` when given; returns the key. */
export async function seedIngestKey(ctx: AppContext, orgId?: string): Promise<string> {
  return (await createApiKey(ctx, undefined, { type: 'ingest', ...(orgId ? { orgId } : {}) })).key;
}
