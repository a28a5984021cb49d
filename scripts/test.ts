/**
 * `npm test`: starts a throw-away local OpenSearch on a free port (unless OPENSEARCH_URL is set), runs every
 * mocha test against it, and always stops and deletes it. Extra arguments go to mocha
 * (e.g. `npm test -- test/unit/**\/*.test.ts` or `npm test -- --grep cursor`). With `--nodes N` the engine is a
 * local cluster of N nodes (`npm run test:cluster`); the tests find it by AUDIT_TEST_CLUSTER to kill nodes.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { loadConfig, PROJECT_ROOT, type Config } from '../src/config.ts';
import { LocalEngine } from './lib/engine/engine.ts';
import { LocalCluster } from './lib/engine/cluster.ts';
import { intFlag, runCli, type ArgToken, type OptionSpec } from './lib/cli.ts';

const HELP = `Usage: npm test [-- --nodes N] [mocha options] [test files]

Starts a throw-away local OpenSearch on a free port (unless OPENSEARCH_URL is set), runs mocha against it
(every test, or the files named), and always stops and deletes it.

Options:
  --nodes N        a local cluster of N nodes instead of one engine (npm run test:cluster)
  mocha's options  passed on, e.g. --grep cursor, --bail, --timeout 120000 (npx mocha --help lists them)

Examples:
  npm test -- test/integration/ingest.test.ts
  npm test -- --grep cursor`;

/**
 * Mocha's own run options, from the option table its CLI is built from: the arguments passed on are checked
 * here, before a minute of engine start-up, since mocha itself ignores an option it does not know.
 */
function mochaOptions(): OptionSpec {
  const require = createRequire(import.meta.url);
  const { types, aliases } = require('mocha/lib/cli/run-option-metadata.cjs') as {
    types: Record<'array' | 'boolean' | 'number' | 'string', string[]>;
    aliases: Record<string, string[]>;
  };
  const spec: OptionSpec = {};
  for (const [kind, names] of Object.entries(types)) {
    for (const name of names) {
      const option = kind === 'boolean' ? { type: 'boolean' as const } : { type: 'string' as const };
      const multiple = kind === 'array';
      const short = aliases[name]?.find((a) => a.length === 1);
      spec[name] = { ...option, multiple, ...(short ? { short } : {}) };
      for (const alias of aliases[name] ?? []) if (alias.length > 1) spec[alias] = { ...option, multiple };
    }
  }
  return spec;
}

const OWN = { nodes: { type: 'string' } } as const;

/** The arguments for mocha: all but this script's own options (and their values), verbatim. */
function withoutOwnOptions(argv: string[], tokens: ArgToken[]): string[] {
  const own = new Set<number>();
  for (const t of tokens) {
    if (t.kind !== 'option' || !(t.name in OWN)) continue;
    own.add(t.index);
    if (t.value !== undefined && !t.inlineValue) own.add(t.index + 1);
  }
  return argv.filter((_, i) => !own.has(i));
}

let engine: LocalEngine | undefined;
let cluster: LocalCluster | undefined;

async function runTests(cfg: Config, nodes: number, mochaArgs: string[]): Promise<number> {
  const env = { ...process.env };
  if (!cfg.opensearchUrl && nodes > 1) {
    const instance = `test-${process.pid}`;
    cluster = new LocalCluster({ ...cfg.engine, port: 0 }, { instance });
    const { urls } = await cluster.start(nodes);
    console.error(`test cluster: ${nodes} nodes at ${urls.join(', ')}`);
    env.OPENSEARCH_URL = urls.join(',');
    env.AUDIT_TEST_CLUSTER = instance;
  } else if (!cfg.opensearchUrl) {
    engine = new LocalEngine(
      // A fast ISM clock so lifecycle tests finish in minutes (used only where the plugin is installed).
      { ...cfg.engine, port: 0, ismJobIntervalMinutes: 1, ismJitter: 0 },
      { instance: `test-${process.pid}` },
    );
    const { state } = await engine.start();
    console.error(
      `test engine: OpenSearch ${state.version} at ${state.url} (plugins: ${state.plugins.join(', ') || 'none'})`,
    );
    env.OPENSEARCH_URL = state.url;
  }
  const mocha = path.join(PROJECT_ROOT, 'node_modules', '.bin', 'mocha');
  return new Promise<number>((resolve) => {
    const child = spawn(mocha, mochaArgs, { stdio: 'inherit', env, cwd: PROJECT_ROOT });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

async function cleanup() {
  if (engine)
    await engine.reset(true).catch((err) => console.error(`could not stop the test engine: ${err}`));
  engine = undefined;
  if (cluster)
    await cluster.reset(true).catch((err) => console.error(`could not stop the test cluster: ${err}`));
  cluster = undefined;
}

process.on('SIGINT', () => void cleanup().then(() => process.exit(130)));
process.on('SIGTERM', () => void cleanup().then(() => process.exit(143)));

const SPEC = { options: OWN, positionals: true, forwarded: { name: 'mocha', options: mochaOptions() } };

runCli(HELP, SPEC, async (args, { argv, tokens }) => {
  const nodes = intFlag(args, 'nodes', { default: 1, max: 9 });
  let code: number;
  try {
    code = await runTests(loadConfig(), nodes, withoutOwnOptions(argv, tokens));
  } finally {
    await cleanup();
  }
  process.exit(code);
});
