/**
 * How the service runs as `npm start` runs it: bundled into one JavaScript file (dist/start.mjs, built by
 * `npm run build`, which `npm start` runs first), so the service carries no TypeScript loader; tsx's
 * compiler thread and cached sources cost it about 30 MB of RSS (docs/benchmarks.md).
 */
import fs from 'node:fs';
import path from 'node:path';
import { buildSync } from 'esbuild';
import { PROJECT_ROOT } from '../src/config.ts';

export const SERVICE_BUNDLE = path.join(PROJECT_ROOT, 'dist', 'start.mjs');

/**
 * Bundles scripts/start.ts and what it imports (packages stay in node_modules) into SERVICE_BUNDLE, replacing
 * the file in one rename: a service starting from the same checkout meanwhile loads the old or the new one.
 */
export function buildService(): string {
  const { outputFiles } = buildSync({
    entryPoints: [path.join(PROJECT_ROOT, 'scripts', 'start.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    outfile: SERVICE_BUNDLE,
    write: false,
    logLevel: 'warning',
  });
  const tmp = `${SERVICE_BUNDLE}.${process.pid}.tmp`;
  fs.mkdirSync(path.dirname(SERVICE_BUNDLE), { recursive: true });
  fs.writeFileSync(tmp, outputFiles[0]!.contents);
  fs.renameSync(tmp, SERVICE_BUNDLE);
  return SERVICE_BUNDLE;
}

/**
 * Node's arguments for the service as `npm start` runs it (package.json's start script, plus .npmrc's
 * node-options that npm adds), for tests and benchmarks that start it as a process of its own. Builds the
 * bundle first, as `npm start` does (once per process), so it is never older than the sources.
 */
let bundle: string | undefined;

export function serviceNodeArgs(): string[] {
  const pkg = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  const npmrc = fs.readFileSync(path.join(PROJECT_ROOT, '.npmrc'), 'utf8');
  const fromNpmrc = /^node-options=(.*)$/m.exec(npmrc)?.[1]?.trim().split(/\s+/) ?? [];
  const [node, ...args] = pkg.scripts.start!.trim().split(/\s+/);
  if (node !== 'node') throw new Error(`package.json's start script does not run node: ${pkg.scripts.start}`);
  bundle ??= buildService();
  return [...fromNpmrc, ...args.map((a) => (path.join(PROJECT_ROOT, a) === bundle ? bundle : a))];
}
