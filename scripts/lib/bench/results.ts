/**
 * Benchmark results: each bench script writes `bench/results/<name>.json` (gitignored) with its headline
 * figures; `npm run bench` compares them with `bench/baselines.json` (committed, from a measured run).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../../../src/config.ts';

export const RESULTS_DIR = path.join(PROJECT_ROOT, 'bench', 'results');
export const BASELINES_FILE = path.join(PROJECT_ROOT, 'bench', 'baselines.json');

/** A headline figure: its value, unit, and whether more is better. */
export interface Metric {
  value: number;
  unit: string;
  better: 'higher' | 'lower';
}

export interface BenchResult {
  name: string;
  date: string;
  params: Record<string, string | number>;
  metrics: Record<string, Metric>;
  loadAverage: number[];
  cpus: number;
  details?: unknown;
}

export function writeBenchResult(
  name: string,
  params: BenchResult['params'],
  metrics: BenchResult['metrics'],
  details?: unknown,
): BenchResult {
  const result: BenchResult = {
    name,
    date: new Date().toISOString(),
    params,
    metrics,
    loadAverage: os.loadavg().map((l) => Number(l.toFixed(2))),
    cpus: os.cpus().length,
    ...(details === undefined ? {} : { details }),
  };
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  fs.writeFileSync(path.join(RESULTS_DIR, `${name}.json`), `${JSON.stringify(result, null, 2)}\n`);
  return result;
}

export function readBenchResult(name: string): BenchResult | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(RESULTS_DIR, `${name}.json`), 'utf8')) as BenchResult;
  } catch {
    return undefined;
  }
}
