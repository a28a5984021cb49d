/**
 * `npm test`: starts a throw-away local OpenSearch on a free port (unless OPENSEARCH_URL is set), runs every
 * mocha test against it, and always stops and deletes it. Extra arguments go to mocha
 * (e.g. `npm test -- test/unit/**\/*.test.ts` or `npm test -- --grep cursor`). With `--nodes N` the engine is a
 * local cluster of N nodes (`npm run test:cluster`); the tests find it by AUDIT_TEST_CLUSTER to kill nodes.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { loadConfig, PROJECT_ROOT } from '../src/config.ts';
import { LocalEngine } from './lib/engine/engine.ts';
import { LocalCluster } from './lib/engine/cluster.ts';

const cfg = loadConfig();
const mochaArgs = process.argv.slice(2);
const nodesAt = mochaArgs.indexOf('--nodes');
const nodes = nodesAt >= 0 ? Number(mochaArgs.splice(nodesAt, 2)[1]) : 1;
let engine: LocalEngine | undefined;
let cluster: LocalCluster | undefined;
let exitCode = 1;

async function main() {
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
  exitCode = await new Promise<number>((resolve) => {
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

main()
  .catch((err) => {
    console.error(`error: ${err instanceof Error ? err.message : err}`);
    exitCode = 1;
  })
  .finally(async () => {
    await cleanup();
    process.exit(exitCode);
  });
