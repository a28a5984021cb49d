/** The shared shell for every script in `scripts/`: argument parsing, `--help`, errors, progress bars. */

import { parseArgs, type ParseArgsConfig } from 'node:util';

/** The options a script takes, as node:util `parseArgs` declares them (`--help`/`-h` is added to every script). */
export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export interface CliSpec {
  options: OptionSpec;
  /** Whether the script takes positional arguments (commands, files); refused otherwise. */
  positionals?: boolean;
  /** Options accepted to pass on to another tool (`name`), which has them all and `--no-<flag>` negations. */
  forwarded?: { name: string; options: OptionSpec };
}

export interface Args {
  _: string[];
  [flag: string]: string | boolean | string[] | boolean[] | undefined;
}

/** One parsed argument (node:util's token): an option with its index in argv, a positional, or `--`. */
export type ArgToken =
  | { kind: 'option'; index: number; name: string; rawName: string; value?: string; inlineValue?: boolean }
  | { kind: 'positional'; index: number; value: string }
  | { kind: 'option-terminator'; index: number };

const HELP_OPTION: OptionSpec = { help: { type: 'boolean', short: 'h' } };

/**
 * Parses a script's arguments with node:util `parseArgs` in strict mode: an unknown option, a value missing or
 * given to a flag that takes none, or an unexpected positional is a UsageError naming it (and the nearest known
 * option), so a misspelt option never silently widens what a script does.
 */
export function parseCliArgs(argv: string[], spec: CliSpec): { args: Args; tokens: ArgToken[] } {
  const config = {
    args: argv,
    options: { ...spec.forwarded?.options, ...spec.options, ...HELP_OPTION },
    allowPositionals: spec.positionals ?? false,
    allowNegative: spec.forwarded !== undefined,
    tokens: true as const,
  };
  let parsed: ReturnType<typeof parseArgs<typeof config>>;
  try {
    parsed = parseArgs({ ...config, strict: true });
  } catch (err) {
    throw new UsageError(explain(config, spec) ?? (err as Error).message);
  }
  return { args: { _: parsed.positionals, ...parsed.values }, tokens: parsed.tokens };
}

/** Says what strict parsing refused, in the scripts' own words, from a lenient parse's tokens. */
function explain(config: ParseArgsConfig & { options: OptionSpec }, spec: CliSpec): string | undefined {
  const { tokens } = parseArgs({ ...config, strict: false, allowPositionals: true, tokens: true });
  for (const t of tokens) {
    if (t.kind === 'positional' && !config.allowPositionals) {
      return `unexpected argument "${t.value}" (options are written --name value)`;
    }
    if (t.kind !== 'option') continue;
    const option = config.options[t.name];
    if (!option) return unknownOption(t.rawName, spec);
    if (option.type === 'string' && (t.value === undefined || (!t.inlineValue && t.value.startsWith('-')))) {
      return (
        `${t.rawName} needs a value` +
        (t.value === undefined ? '' : ` (for one starting with "-": ${t.rawName}=${t.value})`)
      );
    }
    if (option.type === 'boolean' && t.inlineValue) return `${t.rawName} takes no value`;
  }
  return undefined;
}

/** "unknown option --x (did you mean --y?)", then the script's own options (a forwarded tool's by name). */
function unknownOption(raw: string, spec: CliSpec): string {
  const own = Object.keys({ ...spec.options, ...HELP_OPTION });
  const all = [...own, ...Object.keys(spec.forwarded?.options ?? {})];
  const nearest = nearestName(raw.replace(/^--?/, ''), all);
  return (
    `unknown option ${raw}${nearest ? ` (did you mean --${nearest}?)` : ''}\n` +
    `options: ${own.map((n) => `--${n}`).join(', ')}` +
    (spec.forwarded ? `, and those of ${spec.forwarded.name}` : '')
  );
}

/** The known name closest to a misspelt one, when it is close enough to be what was meant. */
export function nearestName(given: string, names: string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of names) {
    const distance = name.startsWith(given) ? 1 : editDistance(given, name);
    if (!best || distance < best.distance) best = { name, distance };
  }
  return best && best.distance <= Math.max(2, Math.floor(given.length / 3)) ? best.name : undefined;
}

/** Levenshtein distance, one row at a time. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}

/** A string flag's value; throws a usage error naming the flag when it is required and missing, or empty. */
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

function fail(err: unknown): void {
  const msg = err instanceof Error ? err.message : String(err);
  console.error(`error: ${msg}${err instanceof UsageError ? '\n(run with --help for usage)' : ''}`);
  process.exitCode = 1;
}

/**
 * Runs a script body: parses its arguments (parseCliArgs), prints `help` on --help, and turns any error into
 * a one-line message and exit 1.
 */
export function runCli(
  help: string,
  spec: CliSpec,
  main: (args: Args, raw: { argv: string[]; tokens: ArgToken[] }) => Promise<void>,
): void {
  // A leading "--" is what `npx tsx scripts/x.ts -- --flag` leaves, out of the habit of `npm run x -- --flag`.
  const given = process.argv.slice(2);
  const argv = given[0] === '--' ? given.slice(1) : given;
  let parsed: ReturnType<typeof parseCliArgs>;
  try {
    parsed = parseCliArgs(argv, spec);
  } catch (err) {
    fail(err);
    return;
  }
  if (parsed.args.help) {
    console.log(help);
    return;
  }
  main(parsed.args, { argv, tokens: parsed.tokens }).catch(fail);
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
