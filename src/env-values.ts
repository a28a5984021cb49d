/**
 * How an environment variable's text becomes a value, with an error naming the variable. Only config.ts
 * uses these: it is the one reader of the environment.
 */

/** A variable whose value cannot be used; the message names it. */
export class ConfigError extends Error {}

export type Env = Record<string, string | undefined>;

/** A boolean variable: `true`/`1` or `false`/`0`; unset or empty is `dflt`. */
export function bool(env: Env, name: string, dflt = false): boolean {
  const v = env[name];
  if (v === undefined || v === '') return dflt;
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new ConfigError(`${name} must be "true" or "false" (got "${v}")`);
}

/** A number variable within [min, max] (a whole one unless `integer` is false); unset or empty is `dflt`. */
export function num(env: Env, name: string, dflt: number, min: number, max: number, integer = true): number {
  const v = env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min || n > max) {
    throw new ConfigError(
      `${name} must be ${integer ? 'an integer' : 'a number'} between ${min} and ${max} (got "${v}")`,
    );
  }
  return n;
}

/** A variable's text; unset or empty is undefined. */
export function str(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v === '' ? undefined : v;
}
