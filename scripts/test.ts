/**
 * `npm test`: starts a throw-away local OpenSearch on a free port (unless OPENSEARCH_URL is set), runs every
 * mocha test against it, and always stops and deletes it. Extra arguments go to mocha
 * (e.g. `npm test -- test/unit/**\/*.test.ts` or `npm test -- --grep cursor`).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { loadConfig, PROJECT_ROOT } from '../src/config.ts';
import { LocalEngine } from '../src/engine/engine.ts';

const cfg = loadConfig();
const mochaArgs = process.argv.slice(2);
let engine: LocalEngine | undefined;
let exitCode = 1;

async function main() {
  const env = { ...process.env };
  if (!cfg.opensearchUrl) {
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
