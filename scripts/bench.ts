/**
 * `npm run bench`: runs the benchmarks against a throw-away local engine (or OPENSEARCH_URL), then prints
 * each headline figure next to its committed baseline (bench/baselines.json) and writes bench/results/.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BASELINES_FILE, readBenchResult, type BenchResult } from './lib/bench/results.ts';
import { formatTable, runCli, stringFlag } from './lib/cli.ts';
import { loadConfig, PROJECT_ROOT } from '../src/config.ts';
import { LocalEngine } from './lib/engine/engine.ts';

/** The suite at sizes that finish in minutes on 2 CPUs; `--full` uses the sizes quoted in docs/benchmarks.md. */
const SUITE: Record<string, { script: string; quick: string[]; full: string[] }> = {
  read: { script: 'bench-read.ts', quick: ['--events', '20000'], full: ['--events', '100000'] },
  seal: {
    script: 'bench-seal.ts',
    // Phases long enough that the seal lag at the end (about one interval plus a round) is a small share.
    quick: ['--seconds', '45', '--rounds', '2'],
    full: ['--seconds', '120', '--rounds', '2'],
  },
  // The org tree at scale: proofs through the API and bytes per leaf (10M leaves: about 10 minutes).
  tree: { script: 'bench-tree.ts', quick: ['--leaves', '1000000'], full: ['--leaves', '10000000'] },
  page: {
    script: 'bench-page.ts',
    quick: ['--events', '50000', '--runs', '5'],
    full: ['--events', '1000000'],
  },
  // Reads at retention scale beside PostgreSQL; needs Debian's postgresql server on the machine.
  query: { script: 'bench-query.ts', quick: ['--events', '1000000'], full: ['--events', '10000000'] },
  // Push streams: catch-up of a sealed backlog to S3 and a webhook, ingest beside a stream, latency, RSS.
  streams: {
    script: 'bench-streams.ts',
    quick: ['--events', '200000', '--ingest-seconds', '30', '--latency-seconds', '60', '--rss-seconds', '30'],
    full: ['--events', '1000000'],
  },
};

const HELP = `Usage: npm run bench [-- --only read,seal,page] [--full] [--save-baseline]

Runs the benchmarks (read: ingest + a SIEM walk over nextCursor; seal: ingest with sealing off vs on
(sealing with the org tree and witnessing); tree: proofs and checkpoints over an org tree of 1M (--full 10M) leaves;
page: first 50 rows of the admin page in Chromium; query: reads over 400 days beside PostgreSQL) against a throw-away local engine that it starts and
deletes (or against OPENSEARCH_URL, which then keeps the events: day indices refuse deletes). Prints each
figure next to its baseline from bench/baselines.json and writes bench/results/<name>.json.

  --only LIST       run some of: ${Object.keys(SUITE).join(', ')}
  --full            the sizes of docs/benchmarks.md (100k read, 2 rounds of 120 s seal phases, 1M-event page: about 25 minutes)
  --save-baseline   store this run's figures as the new baselines`;

const OPTIONS = {
  only: { type: 'string' },
  full: { type: 'boolean' },
  'save-baseline': { type: 'boolean' },
} as const;

runCli(HELP, { options: OPTIONS }, async (args) => {
  const cfg = loadConfig();
  const only = stringFlag(args, 'only')?.split(',') ?? Object.keys(SUITE);
  for (const n of only)
    if (!SUITE[n]) throw new Error(`unknown benchmark "${n}"; choose from ${Object.keys(SUITE).join(', ')}`);
  let engine: LocalEngine | undefined;
  const env = { ...process.env };
  if (!cfg.opensearchUrl) {
    engine = new LocalEngine({ ...cfg.engine, port: 0 }, { instance: `bench-${process.pid}` });
    env.OPENSEARCH_URL = (await engine.start()).state.url;
  }
  const ran: BenchResult[] = [];
  try {
    for (const name of only) {
      const b = SUITE[name]!;
      console.error(`\n== ${name} ==`);
      const code = await new Promise<number>((resolve) => {
        const child = spawn(
          process.execPath,
          [
            '--import',
            'tsx',
            path.join(PROJECT_ROOT, 'scripts', b.script),
            ...(args.full ? b.full : b.quick),
          ],
          { stdio: 'inherit', env, cwd: PROJECT_ROOT },
        );
        child.on('exit', (c) => resolve(c ?? 1));
      });
      if (code !== 0) throw new Error(`benchmark "${name}" failed (exit ${code})`);
      const result = readBenchResult(name);
      if (result) ran.push(result);
    }
  } finally {
    if (engine) await engine.reset(true);
  }

  const baselines: Record<string, BenchResult> = fs.existsSync(BASELINES_FILE)
    ? JSON.parse(fs.readFileSync(BASELINES_FILE, 'utf8'))
    : {};
  const rows = ran.flatMap((r) =>
    Object.entries(r.metrics).map(([metric, m]) => {
      const base = baselines[r.name]?.metrics[metric];
      const change = base ? ((m.value - base.value) / base.value) * 100 : undefined;
      const worse = change !== undefined && (m.better === 'higher' ? change < -10 : change > 10);
      return [
        r.name,
        metric,
        `${m.value} ${m.unit}`,
        base ? `${base.value} ${base.unit}` : '—',
        change === undefined ? '' : `${change >= 0 ? '+' : ''}${change.toFixed(1)}%${worse ? '  worse' : ''}`,
      ];
    }),
  );
  console.log(`\n${formatTable(['bench', 'figure', 'this run', 'baseline', 'change'], rows)}`);
  console.log(`(baselines from ${path.relative(PROJECT_ROOT, BASELINES_FILE)}; results in bench/results/)`);
  if (args['save-baseline']) {
    for (const r of ran) baselines[r.name] = r;
    fs.writeFileSync(BASELINES_FILE, `${JSON.stringify(baselines, null, 2)}\n`);
    console.log('baselines saved');
  }
});
