/** A witness as its own process (`npm run witness`), for tests of the log's side and of attacks, and benchmarks. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { DEFAULT_LOG_ORIGIN, PROJECT_ROOT } from '../../src/config.ts';

export /** Starts `npm run witness` on a free port; resolves with its URL and printed verifier key. */
async function startWitness(stateDir: string, logVkey: string) {
  // Node itself with tsx's loader (not the tsx wrapper), so a signal reaches the witness and not a parent of it.
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(PROJECT_ROOT, 'scripts', 'witness.ts'),
      '--state',
      stateDir,
      '--port',
      '0',
      '--log',
      `${DEFAULT_LOG_ORIGIN}=${logVkey}`,
    ],
    { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  const started = await new Promise<{ url: string; vkey: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`witness did not start: ${out}`)), 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const url = /listening on (http:\/\/\S+)/.exec(out)?.[1];
      const vkey = /verifier key: (\S+)/.exec(out)?.[1];
      if (url && vkey) {
        clearTimeout(timer);
        resolve({ url, vkey });
      }
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => reject(new Error(`witness exited ${code}: ${out}`)));
  });
  return { ...started, child };
}
