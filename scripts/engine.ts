/** `npm run engine -- start|stop|status|logs|reset`: manages the local OpenSearch used when OPENSEARCH_URL is unset. */
import readline from 'node:readline/promises';
import { spawn } from 'node:child_process';
import { loadConfig } from '../src/config.ts';
import { LocalEngine } from '../src/engine/engine.ts';
import { runCli } from '../src/cli.ts';

const HELP = `Usage: npm run engine -- <command> [options]

Manages the local OpenSearch (single node, 127.0.0.1) that npm start uses when OPENSEARCH_URL is unset.

Commands:
  start            fetch (once, from Maven Central), unpack and start the engine; prints its URL, the same
                   one on every start of an instance (it waits up to 30 s for its port to be free)
  stop             stop the engine this tool started
  status           version, plugins, health and data size
  logs [-f] [-n N] print the last N lines of the engine log (default 50); -f follows it
  reset [--yes]    stop the engine and delete its data (asks first unless --yes)

Options:
  --instance NAME  which local instance (default: "default")

Environment: AUDIT_ENGINE_VERSION, AUDIT_ENGINE_DIR, AUDIT_ENGINE_HEAP, AUDIT_ENGINE_PORT,
OPENSEARCH_JAVA_HOME (see README).`;

runCli(HELP, async (args) => {
  const [command] = args._;
  const cfg = loadConfig();
  const engine = new LocalEngine(cfg.engine, { instance: String(args.instance ?? 'default') });
  switch (command) {
    case 'start': {
      const { state, startedNow } = await engine.start();
      console.error(
        startedNow ? `OpenSearch ${state.version} started` : `OpenSearch ${state.version} is already running`,
      );
      console.log(state.url);
      return;
    }
    case 'stop':
      console.log((await engine.stop()) ? 'stopped' : 'not running');
      return;
    case 'status': {
      const state = engine.running();
      if (!state) {
        console.log(
          `not running (engine files: ${cfg.engine.dir}; installed plugins: ${engine.installedPlugins().join(', ') || 'none'})`,
        );
        process.exitCode = 3;
        return;
      }
      const health = await fetch(`${state.url}/_cluster/health`).then(
        (r) => r.json() as Promise<{ status: string }>,
      );
      const plugins = await fetch(`${state.url}/_cat/plugins?h=component,version`).then((r) => r.text());
      console.log(`url:      ${state.url}
version:  OpenSearch ${state.version}
pid:      ${state.pid} (since ${state.startedAt})
health:   ${health.status}
plugins:  ${
        plugins
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((l) => l.trim().replace(/\s+/, ' '))
          .join(', ') || 'none'
      }
data:     ${engine.dataDir} (${(engine.dataSizeBytes() / 1048576).toFixed(1)} MiB)
log:      ${engine.logFile}`);
      return;
    }
    case 'logs': {
      const n = Number(args.n ?? 50);
      if (args.f || args.follow) {
        spawn('tail', ['-n', String(n), '-F', engine.logFile], { stdio: 'inherit' });
        return;
      }
      console.log(engine.tail(n));
      return;
    }
    case 'reset': {
      if (!args.yes) {
        if (!process.stdin.isTTY)
          throw new Error('reset deletes all local audit data; pass --yes to confirm');
        const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
        const answer = await rl.question(`Delete all data in ${engine.dataDir}? Type "yes": `);
        rl.close();
        if (answer.trim() !== 'yes') throw new Error('not confirmed; nothing deleted');
      }
      await engine.reset();
      console.log('local engine data deleted');
      return;
    }
    default:
      throw new Error(`unknown command "${command ?? ''}"; see --help`);
  }
});
