/** `npm run build`: the service's bundle, dist/start.mjs, that `npm start` runs (see scripts/service-args.ts). */
import path from 'node:path';
import { PROJECT_ROOT } from '../src/config.ts';
import { buildService } from './service-args.ts';

console.error(`built ${path.relative(PROJECT_ROOT, buildService())}`);
