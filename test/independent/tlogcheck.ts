/**
 * Runs test/independent/tlogcheck.go (Go's sumdb/note and sumdb/tlog, not this project's code) over a list of
 * checks, building it once per checkout into .cache/. Needs Debian's golang-go and golang-golang-x-mod-dev
 * (.ci/run installs them).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/config.ts';

export type IndependentCheck =
  | { kind: 'note'; vkey: string; note: string; root?: string }
  | { kind: 'cosignature'; vkey: string; note: string }
  | { kind: 'inclusion'; size: number; root: string; index: number; leaf: string; proof: string[] }
  | { kind: 'consistency'; from: number; to: number; fromRoot: string; toRoot: string; proof: string[] };

const SOURCE = path.join(PROJECT_ROOT, 'test', 'independent', 'tlogcheck.go');
const BINARY = path.join(PROJECT_ROOT, '.cache', 'tlogcheck');

function build(): string {
  const fresh = fs.existsSync(BINARY) && fs.statSync(BINARY).mtimeMs >= fs.statSync(SOURCE).mtimeMs;
  if (!fresh) {
    fs.mkdirSync(path.dirname(BINARY), { recursive: true });
    execFileSync('go', ['build', '-o', BINARY, SOURCE], {
      env: {
        ...process.env,
        GO111MODULE: 'off',
        GOPATH: '/usr/share/gocode',
        GOCACHE: path.join(PROJECT_ROOT, '.cache', 'go-build'),
      },
      stdio: 'pipe',
    });
  }
  return BINARY;
}

/** One line per check, `<n> <kind> ok` or `<n> <kind> fail: <why>`; `ok` is true when every check passed. */
export function independentCheck(checks: IndependentCheck[]): { ok: boolean; lines: string[] } {
  const run = spawnSync(build(), { input: JSON.stringify({ checks }), encoding: 'utf8' });
  if (run.error) throw run.error;
  return { ok: run.status === 0, lines: run.stdout.trim().split('\n') };
}
