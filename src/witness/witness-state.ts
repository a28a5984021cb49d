/**
 * What a witness remembers of each log: the newest checkpoint it cosigned, one file per origin in its state
 * folder. A file is replaced whole (written aside, flushed, renamed, folder flushed), so a kill leaves the old
 * state or the new one, never a mix; the size it holds never goes back (witness.ts checks before it writes).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export type LogState = { origin: string; size: number; root: string; note: string };

export class WitnessState {
  private readonly dir: string;

  constructor(stateDir: string) {
    this.dir = path.join(stateDir, 'logs');
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  private file(origin: string): string {
    return path.join(this.dir, `${originHash(origin)}.json`);
  }

  /** The newest cosigned checkpoint of `origin`, or undefined before the first. */
  get(origin: string): LogState | undefined {
    try {
      const state = JSON.parse(fs.readFileSync(this.file(origin), 'utf8')) as LogState;
      if (state.origin !== origin) throw new Error(`${this.file(origin)} holds the state of ${state.origin}`);
      return state;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** The state of the origin whose hash is given (the monitoring API names logs so). */
  getByHash(hash: string): LogState | undefined {
    if (!/^[0-9a-f]{64}$/.test(hash)) return undefined;
    try {
      return JSON.parse(fs.readFileSync(path.join(this.dir, `${hash}.json`), 'utf8')) as LogState;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  put(state: LogState): void {
    const target = this.file(state.origin);
    const aside = `${target}.${process.pid}.tmp`;
    const fd = fs.openSync(aside, 'w', 0o600);
    try {
      fs.writeSync(fd, JSON.stringify(state));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(aside, target);
    const dirFd = fs.openSync(this.dir, 'r');
    try {
      fs.fsyncSync(dirFd);
    } finally {
      fs.closeSync(dirFd);
    }
  }
}

/** How the monitoring API names a log: lowercase hex SHA-256 of its origin line (c2sp.org/tlog-witness). */
export const originHash = (origin: string) => crypto.createHash('sha256').update(origin).digest('hex');
