/** Runs an operator script (`scripts/<name>.ts`) as a child process, the way an operator would. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { PROJECT_ROOT } from '../src/config.ts';
import { opensearchUrl } from './helpers.ts';

export interface ScriptResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runScript(
  name: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<ScriptResult> {
  const tsx = path.join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx');
  const child = spawn(tsx, [path.join(PROJECT_ROOT, 'scripts', `${name}.ts`), ...args], {
    cwd: PROJECT_ROOT,
    // A clean environment: nothing from the developer's shell leaks in but PATH and HOME.
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      OPENSEARCH_URL: opensearchUrl(),
      ...env,
    },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}
