/** The shared shell for every script in `scripts/`: argument parsing, `--help`, errors, progress bars. */

export interface Args {
  _: string[];
  [flag: string]: string | boolean | string[] | undefined;
}

/** Flags that never take a value (so `--yes next` keeps `next` positional). */
const BOOLEAN_FLAGS = new Set([
  'yes',
  'f',
  'follow',
  'json',
  'help',
  'h',
  'resume',
  'dry-run',
  'keep-engine',
  'quiet',
  'full',
  'save-baseline',
]);

export function parseArgs(argv: string[]): Args {
  const args: Args = { _: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const m = /^--?([^=]+)(?:=(.*))?$/.exec(a);
    if (!m || a === '-' || /^-\d/.test(a)) {
      args._.push(a);
      continue;
    }
    const name = m[1]!;
    if (m[2] !== undefined) args[name] = m[2];
    else if (BOOLEAN_FLAGS.has(name) || i + 1 >= argv.length || argv[i + 1]!.startsWith('--'))
      args[name] = true;
    else args[name] = argv[++i]!;
  }
  return args;
}

/** A string flag's value; throws a usage error naming the flag when it is missing or not a value. */
export function stringFlag(args: Args, name: string, required: true): string;
export function stringFlag(args: Args, name: string, required?: false): string | undefined;
export function stringFlag(args: Args, name: string, required = false): string | undefined {
  const v = args[name];
  if (v === undefined) {
    if (required) throw new UsageError(`--${name} is required`);
    return undefined;
  }
  if (typeof v !== 'string' || v === '') throw new UsageError(`--${name} needs a value`);
  return v;
}

/**
 * An integer flag (`_` separators allowed, e.g. 1_000_000): required when no default is given, and within
 * [min, max]; a usage error naming the flag otherwise.
 */
export function intFlag(
  args: Args,
  name: string,
  opts: { default?: number; min?: number; max?: number } = {},
): number {
  const { min = 1, max = Number.MAX_SAFE_INTEGER } = opts;
  const raw = opts.default === undefined ? stringFlag(args, name, true) : stringFlag(args, name);
  if (raw === undefined) return opts.default!;
  const n = Number(raw.replace(/_/g, ''));
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
    throw new UsageError(`--${name} must be an integer ${range} (got "${raw}")`);
  }
  return n;
}

export class UsageError extends Error {}

/** Runs a script body: prints `help` on --help, a one-line message and exit 1 on any error. */
export function runCli(help: string, main: (args: Args) => Promise<void>): void {
  const args = parseArgs(process.argv.slice(2));
  if (args.help || args.h) {
    console.log(help);
    return;
  }
  main(args).catch((err: unknown) => {
    const msg = err instanceof Error ? err.message : String(err);
    console.error(`error: ${msg}${err instanceof UsageError ? '\n(run with --help for usage)' : ''}`);
    process.exitCode = 1;
  });
}

/** A progress bar on stderr (count, rate, ETA); silent when stderr is not a terminal unless forced. */
export class Progress {
  private done = 0;
  private readonly started = Date.now();
  private lastDraw = 0;
  private readonly tty = Boolean(process.stderr.isTTY);

  constructor(
    private readonly label: string,
    private total?: number,
  ) {}

  setTotal(total: number) {
    this.total = total;
  }

  tick(n = 1) {
    this.done += n;
    const now = Date.now();
    if (now - this.lastDraw >= (this.tty ? 100 : 5000)) {
      this.lastDraw = now;
      this.draw(false);
    }
  }

  finish() {
    this.draw(true);
  }

  get count() {
    return this.done;
  }

  private draw(final: boolean) {
    const secs = Math.max((Date.now() - this.started) / 1000, 0.001);
    const rate = this.done / secs;
    let line = `${this.label} ${this.done.toLocaleString('en-US')}`;
    if (this.total) {
      const frac = Math.min(this.done / this.total, 1);
      const width = 24;
      const filled = Math.round(frac * width);
      const eta = rate > 0 ? Math.max(this.total - this.done, 0) / rate : 0;
      line =
        `${this.label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(frac * 100).toFixed(1)}% ` +
        `${this.done.toLocaleString('en-US')}/${this.total.toLocaleString('en-US')} ` +
        `${Math.round(rate).toLocaleString('en-US')}/s ETA ${formatDuration(eta)}`;
    } else {
      line += ` ${Math.round(rate).toLocaleString('en-US')}/s`;
    }
    if (final) line += ` in ${formatDuration(secs)}`;
    process.stderr.write(this.tty ? `\r\x1b[K${line}${final ? '\n' : ''}` : `${line}\n`);
  }
}

export function formatDuration(secs: number): string {
  if (!Number.isFinite(secs)) return '?';
  const s = Math.round(secs);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Renders rows as an aligned text table (numbers right-aligned) for script output. */
export function formatTable(headers: string[], rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? c.toLocaleString('en-US') : c)));
  const numeric = headers.map(
    (_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number' || r[i] === ''),
  );
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => String(r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [
    line(headers),
    line(widths.map((w) => '-'.repeat(w))),
    ...cells.map((r) => line(r.map(String))),
  ].join('\n');
}
