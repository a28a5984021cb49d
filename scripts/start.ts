/**
 * `npm start`: runs the service. With OPENSEARCH_URL unset it first starts (or reuses) the local engine and,
 * on Ctrl-C, stops the engine it started unless `--keep-engine` is given.
 */
import { loadConfig } from '../src/config.ts';
import { LocalEngine } from '../src/engine/engine.ts';
import { runCli } from '../src/cli.ts';
import { startService } from '../src/server.ts';

const HELP = `Usage: npm start [-- --keep-engine]

Runs the audit-log service on PORT (default 3000). With OPENSEARCH_URL unset, starts the local OpenSearch
first (see npm run engine -- --help) and stops it on exit unless --keep-engine is given or it was already
running. Configuration: see the README.`;

runCli(HELP, async (args) => {
  const cfg = loadConfig();
  let engine: LocalEngine | undefined;
  let opensearchUrl = cfg.opensearchUrl;
  if (!opensearchUrl) {
    engine = new LocalEngine(cfg.engine, { instance: 'default' });
    const { state, startedNow } = await engine.start();
    if (!startedNow || args['keep-engine']) engine = undefined;
    opensearchUrl = state.url;
    console.error(`OpenSearch ${state.version} at ${state.url}${startedNow ? '' : ' (already running)'}`);
  }
  const service = await startService({ ...cfg, opensearchUrl });
  for (const c of service.changes.filter((c) => c.action !== 'unchanged')) {
    console.error(`setup: ${c.kind} ${c.name} ${c.action}${c.detail ? ` (${c.detail})` : ''}`);
  }
  console.error(`audit-log service listening on ${service.url.replace('127.0.0.1', 'localhost')}`);
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    console.error('stopping …');
    await service.close();
    if (engine) {
      await engine.stop();
      console.error('local OpenSearch stopped');
    }
    process.exit(0);
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
});
