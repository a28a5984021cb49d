/**
 * Node's arguments for running the service as `npm start` does (package.json's start script, plus .npmrc's
 * node-options that npm adds): for tests and benchmarks that start the service as a process of its own.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../src/config.ts';

export function serviceNodeArgs(): string[] {
  const pkg = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  const npmrc = fs.readFileSync(path.join(PROJECT_ROOT, '.npmrc'), 'utf8');
  const fromNpmrc = /^node-options=(.*)$/m.exec(npmrc)?.[1]?.trim().split(/\s+/) ?? [];
  const [node, ...args] = pkg.scripts.start!.trim().split(/\s+/);
  if (node !== 'node') throw new Error(`package.json's start script does not run node: ${pkg.scripts.start}`);
  return [...fromNpmrc, ...args.map((a) => (a.endsWith('.ts') ? path.join(PROJECT_ROOT, a) : a))];
}
