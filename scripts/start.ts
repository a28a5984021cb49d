/**
 * `npm start`: runs the service. With OPENSEARCH_URL unset it first starts (or reuses) the local engine, runs
 * as a local single-user setup (scripts/lib/first-run.ts) and, on Ctrl-C, stops the engine it started unless
 * `--keep-engine` is given. SIGTERM/SIGINT stop gracefully: no new requests, those in flight and the sealer's
 * round finish, exit within 10 s.
 */
import { runCli, UsageError } from './lib/cli.ts';
import { loadConfig, type Config } from '../src/config.ts';
import { LocalEngine } from './lib/engine/engine.ts';
import { ADMIN_TOKEN_FILE, checkOwnEngine, localSetup, seedDemo } from './lib/first-run.ts';
import { startService } from '../src/server.ts';
import { PAGE_PATH } from '../src/ui/ui-routes.ts';
import path from 'node:path';

const HELP = `Usage: npm start [-- --demo] [-- --keep-engine]

Runs the audit-log service on PORT (default 3000).

With OPENSEARCH_URL unset (local use): starts the local OpenSearch first (see npm run engine -- --help) and
stops it on exit unless --keep-engine is given or it was already running; turns on the admin page and the
operator API (token generated into AUDIT_STATE_DIR/${ADMIN_TOKEN_FILE}) and prints how to sign in.
  --demo   also seed a demo organization with a week of realistic events and print a key to sign in with

With OPENSEARCH_URL set (production) only what the configuration enables is on. Configuration: see the README.`;

const OPTIONS = { demo: { type: 'boolean' }, 'keep-engine': { type: 'boolean' } } as const;

runCli(HELP, { options: OPTIONS }, async (args) => {
  let cfg: Config = loadConfig();
  const demo = Boolean(args.demo);
  let engine: LocalEngine | undefined;
  let opensearchUrl = cfg.opensearchUrl;
  if (opensearchUrl && demo) {
    throw new UsageError('--demo is for the local engine; with OPENSEARCH_URL use npm run seed explicitly');
  }
  if (!opensearchUrl) {
    engine = new LocalEngine(cfg.engine, { instance: 'default' });
    let started: Awaited<ReturnType<LocalEngine['start']>>;
    try {
      started = await engine.start();
    } catch (err) {
      throw new Error(`the local OpenSearch did not start: ${(err as Error).message}`);
    }
    const { state, startedNow } = started;
    if (startedNow) await checkOwnEngine(state);
    if (!startedNow || args['keep-engine']) engine = undefined;
    opensearchUrl = state.url;
    console.error(`OpenSearch ${state.version} at ${state.url}${startedNow ? '' : ' (already running)'}`);
    cfg = localSetup(cfg, { demo });
  }
  const service = await startService({ ...cfg, opensearchUrl });
  for (const c of service.changes.filter((c) => c.action !== 'unchanged')) {
    console.error(`setup: ${c.kind} ${c.name} ${c.action}${c.detail ? ` (${c.detail})` : ''}`);
  }
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    // Past this, in-flight work is abandoned rather than keep a supervisor waiting.
    const deadline = setTimeout(() => {
      service.log.error('could not stop within 10 s; exiting');
      process.exit(1);
    }, 10_000);
    service.log.info({ signal }, 'stopping: no new requests; finishing those in flight and the sealer round');
    await service.close();
    clearTimeout(deadline);
    service.log.info('stopped');
    if (engine && (await engine.stop())) console.error('local OpenSearch stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  const base = service.url.replace('127.0.0.1', 'localhost');
  console.error(`audit-log service listening on ${base}`);
  if (!cfg.opensearchUrl) {
    console.error(
      `\nAdmin page:      ${base}${PAGE_PATH}\n` +
        `Operator token:  ${path.join(cfg.stateDir, ADMIN_TOKEN_FILE)} (for /api/v1/admin, npm run admin, /metrics)\n` +
        `API document:    ${base}/api/v1/openapi.json`,
    );
    if (demo) {
      const d = await seedDemo({ cfg, store: service.store, metrics: service.metrics }, (line) =>
        console.error(line),
      );
      console.error(
        `\nSign in: open the admin page and paste this key of ${d.ownerName}, owner of "${d.orgName}":\n  ${d.key}`,
      );
    } else {
      console.error(
        '\nSign in: the page asks for an API key of an org owner or admin. For data to look at, restart with\n' +
          '  npm start -- --demo\nor create your own org and key with npm run admin -- --help.',
      );
    }
  }
});
