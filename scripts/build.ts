/** `npm run build`: the service's bundle, dist/start.mjs, that `npm start` runs (see scripts/service-args.ts). */
import path from 'node:path';
import { PROJECT_ROOT } from '../src/config.ts';
import { runCli } from './lib/cli.ts';
import { buildService } from './service-args.ts';

const HELP = `Usage: npm run build

Bundles the service (scripts/start.ts and what it imports; packages stay in node_modules) into dist/start.mjs,
which npm start runs (npm start builds it first). Takes no options.`;

runCli(HELP, { options: {} }, async () => {
  console.error(`built ${path.relative(PROJECT_ROOT, buildService())}`);
});
