/**
 * `npm start` on the embedded engine is a local, single-user setup: the page, the operator API (with a token
 * generated into the state folder) and the product switch are on, and `--demo` seeds a demo organization so
 * the first screen has data. With OPENSEARCH_URL set none of this applies: production enables only what its
 * configuration asks for.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { AppContext } from '../../src/context.ts';
import type { Config } from '../../src/config.ts';
import type { InstanceState } from './engine/engine.ts';
import { createApiKey } from '../../src/directory/api-keys.ts';
import { resolveApiKey } from '../../src/http/auth.ts';
import { seed, type SeedReport } from './seed/run.ts';
import { buildWorld } from './seed/world.ts';
import { defaultUntil, seedWindow } from './seed/events.ts';
import { countOrgEvents } from '../../src/store/events.ts';
import { loadOrCreateSecret } from '../../src/store/secrets.ts';

export const ADMIN_TOKEN_FILE = 'admin-token';
export const DEMO_KEY_FILE = 'demo-key';
export const DEMO_ORG = 'demo';
export const DEMO_DAYS = 7;
export const DEMO_EVENTS = 5000;

/** The configuration of a local single-user run: page, operator API and product switch on. */
export function localSetup(cfg: Config, opts: { demo: boolean }): Config {
  return {
    ...cfg,
    pageEnabled: true,
    auditLogsEnabled: true,
    adminToken:
      cfg.adminToken ??
      loadOrCreateSecret(cfg.stateDir, ADMIN_TOKEN_FILE, () => crypto.randomBytes(32).toString('hex')),
    // The demo's days must still be open for ingest (older days are sealed, see checkSeedOptions).
    sealAfterDays: opts.demo ? Math.max(cfg.sealAfterDays, DEMO_DAYS + 1) : cfg.sealAfterDays,
  };
}

export interface Demo {
  orgId: string;
  orgName: string;
  ownerName: string;
  /** A personal key of the org's owner, kept in the state folder so later runs print the same one. */
  key: string;
  /** Absent when the org already had its events (a second `npm start -- --demo`). */
  seeded?: SeedReport;
}

/** Seeds the demo org once (through the ingest path) and returns a key to sign in with. */
export async function seedDemo(
  ctx: AppContext,
  onProgress?: (line: string) => void,
  { orgId = DEMO_ORG, events = DEMO_EVENTS } = {},
): Promise<Demo> {
  const opts = {
    orgId,
    events,
    days: DEMO_DAYS,
    seed: 'demo',
    workspaces: 4,
    members: 24,
  };
  let seeded: SeedReport | undefined;
  let world;
  if ((await countOrgEvents(ctx.store, orgId)) === 0) {
    onProgress?.(`Seeding the demo organization "${orgId}": ${events} events over ${DEMO_DAYS} days …`);
    seeded = await seed(ctx, opts);
    world = seeded.world;
  } else {
    world = buildWorld({ ...opts, ...seedWindow(opts.days, defaultUntil()) });
  }
  const owner = world.people.find((p) => p.role === 'owner')!;
  const file = path.join(ctx.cfg.stateDir, DEMO_KEY_FILE);
  let key = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() : undefined;
  if (!key || !(await resolveApiKey(ctx, key))) {
    key = (await createApiKey(ctx, orgId, { type: 'personal', userId: owner.userId })).key;
    fs.mkdirSync(ctx.cfg.stateDir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(file, key, { mode: 0o600 });
  }
  return { orgId, orgName: world.orgName, ownerName: owner.name, key, seeded };
}

/** Throws unless the node answering at `state.url` is the engine process this start launched. */
export async function checkOwnEngine(state: Pick<InstanceState, 'url' | 'pid'>): Promise<void> {
  const res = await fetch(`${state.url}/_nodes/_local/process`).catch(() => undefined);
  const body = res?.ok
    ? ((await res.json()) as { nodes: Record<string, { process?: { id?: number } }> })
    : undefined;
  const pid = body && Object.values(body.nodes)[0]?.process?.id;
  if (pid !== state.pid) {
    throw new Error(
      `the local OpenSearch did not start: ${state.url} is answered by another process (pid ${pid ?? '?'}, ` +
        `not ${state.pid}). Is another \`npm start\` running? Stop it, or use it with OPENSEARCH_URL=${state.url}.`,
    );
  }
}
