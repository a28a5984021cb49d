/**
 * The service's logger: structured JSON lines (pino) on stdout, one object per line, human-readable through
 * pino-pretty when stdout is a terminal. Every part of the server logs through the logger it is handed (the
 * request's child logger carries `reqId`; background jobs carry `job`), never through console.*.
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import pinoPretty from 'pino-pretty';
import type { LogLevel } from '../config.ts';

export type { Logger } from 'pino';

export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const opts = {
    level,
    base: undefined, // no pid/hostname on every line: the process supervisor knows them
    // Defence in depth: no log line may carry a credential, whatever a caller hands over.
    redact: { paths: ['authorization', 'req.headers.authorization', 'key', '*.key'], censor: '[redacted]' },
  };
  if (destination) return pino(opts, destination);
  if (process.stdout.isTTY) {
    return pino(opts, pinoPretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', sync: true }));
  }
  return pino(opts, pino.destination({ dest: 1, sync: true }));
}

/** A logger whose lines are kept in memory (tests assert on them instead of letting them print). */
export function memoryLogger(level: LogLevel = 'info'): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger(level, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { log, lines };
}
