/** `npm run engine -- start|stop|status|logs|reset`: manages the local OpenSearch used when OPENSEARCH_URL is unset. */
import readline from 'node:readline/promises';
import { spawn } from 'node:child_process';
import { loadConfig } from '../src/config.ts';
import { LocalEngine } from './lib/engine/engine.ts';
import { LocalCluster } from './lib/engine/cluster.ts';
import { intFlag, runCli, stringFlag } from './lib/cli.ts';

const HELP = `Usage: npm run engine -- <command> [options]

Manages the local OpenSearch (single node, 127.0.0.1) that npm start uses when OPENSEARCH_URL is unset,
or a local cluster of several nodes on loopback (start --nodes N).

Commands:
  start            fetch (once, from Maven Central), unpack and start the engine; prints its URL, the same
                   one on every start of an instance (it waits up to 30 s for its port to be free)
  start --nodes N  start a local cluster of N nodes (each its own data folder and ports, 512 MB heap);
                   prints their URLs, comma-separated (use as OPENSEARCH_URL)
  stop             stop the engine (and the local cluster's nodes) this tool started
  status           version, plugins, health and data size; a local cluster's nodes
  logs [-f] [-n N] print the last N lines of the engine log (default 50; also --lines N); -f (--follow)
                   follows it
  reset [--yes]    stop the engine and delete its data (asks first unless --yes)

Options:
  --instance NAME  which local instance (default: "default")

Environment: AUDIT_ENGINE_VERSION, AUDIT_ENGINE_DIR, AUDIT_ENGINE_HEAP, AUDIT_ENGINE_PORT,
OPENSEARCH_JAVA_HOME (see README).`;

const OPTIONS = {
  instance: { type: 'string' },
  nodes: { type: 'string' },
  follow: { type: 'boolean', short: 'f' },
  lines: { type: 'string', short: 'n' },
  yes: { type: 'boolean' },
} as const;

runCli(HELP, { options: OPTIONS, positionals: true }, async (args) => {
  const [command] = args._;
  const cfg = loadConfig();
  const instance = stringFlag(args, 'instance') ?? 'default';
  const engine = new LocalEngine(cfg.engine, { instance });
  const cluster = new LocalCluster(cfg.engine, { instance });
  switch (command) {
    case 'start': {
      if (args.nodes !== undefined) {
        const { urls, startedNow } = await cluster.start(intFlag(args, 'nodes', { min: 1, max: 9 }));
        console.error(startedNow ? `local cluster started` : `local cluster is already running`);
        console.log(urls.join(','));
        return;
      }
      const { state, startedNow } = await engine.start();
      console.error(
        startedNow ? `OpenSearch ${state.version} started` : `OpenSearch ${state.version} is already running`,
      );
      console.log(state.url);
      return;
    }
    case 'stop': {
      const nodes = await cluster.stop();
      const single = await engine.stop();
      console.log(
        single || nodes > 0 ? `stopped${nodes > 0 ? ` (${nodes} cluster nodes)` : ''}` : 'not running',
      );
      return;
    }
    case 'status': {
      const layout = cluster.layout();
      if (layout) {
        const running = new Map(cluster.running().map((s) => [s.url, s]));
        const urls = cluster.urls();
        const health = urls.length
          ? await fetch(`${urls[0]}/_cluster/health`)
              .then((r) => r.json() as Promise<{ status: string; number_of_nodes: number }>)
              .catch(() => undefined)
          : undefined;
        console.log(
          `cluster:  ${layout.name} (${health ? `${health.status}, ${health.number_of_nodes} nodes joined` : 'not answering'})`,
        );
        for (let i = 0; i < layout.nodes.length; i++) {
          const n = layout.nodes[i]!;
          const node = cluster.node(i, layout);
          const state = node.running();
          console.log(
            `  ${n.name}: ${state && running.has(state.url) ? `running, pid ${state.pid}, ${state.url}` : 'stopped'}` +
              ` (transport ${n.transportPort}, data ${node.dataDir})`,
          );
        }
        if (!engine.running()) return;
      }
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
      const n = intFlag(args, 'lines', { default: 50, min: 0 });
      if (args.follow) {
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
      await cluster.reset();
      console.log('local engine data deleted');
      return;
    }
    default:
      throw new Error(`unknown command "${command ?? ''}"; see --help`);
  }
});
