/**
 * Syslog over TLS (RFC 5425): one RFC 5424 message per entry, framed by octet counting (`LEN SP MSG`,
 * RFC 6587 / RFC 5425 §4.3). Syslog has no application acknowledgement: a batch counts as delivered once
 * its bytes are written to the TLS socket and flushed to the kernel. One connection is kept per destination
 * and opened again after any error.
 */
import { Type, type Static } from '@sinclair/typebox';
import net from 'node:net';
import tls from 'node:tls';
import type { AuditEntry } from '../events/schema.ts';
import { assertLiteralAllowed, guardedLookup } from './address-guard.ts';
import type { Batch, Destination, DestinationDeps, SendResult } from './destination.ts';
import { connectionFailure, PrivateCa } from './receiver-tls.ts';

export const SyslogSettings = Type.Object(
  {
    host: Type.String({ minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9.:\\[\\]-]+$' }),
    port: Type.Integer({ minimum: 1, maximum: 65535, description: 'TLS syslog port, usually 6514' }),
    ca: Type.Optional(PrivateCa),
  },
  { additionalProperties: false },
);
export type SyslogSettings = Static<typeof SyslogSettings>;

/** Facility 13 (log audit) × 8 + severity 6 (informational). */
const PRI = 13 * 8 + 6;
const APP_NAME = 'audit-log';
const MAX_BATCH = 1000;
const CONNECT_TIMEOUT_MS = 30_000;

/** An RFC 5424 header field: printable US-ASCII without spaces, at most `max` long, else the NILVALUE. */
function headerField(value: string, max: number): string {
  return /^[\x21-\x7e]+$/.test(value) && value.length <= max ? value : '-';
}

/**
 * The RFC 5424 message of one entry. MSG is the entry's JSON with every non-ASCII character escaped
 * (`\uXXXX`), so it is plain ASCII: valid UTF-8 without a BOM and read alike by every receiver.
 */
export function syslogMessage(entry: AuditEntry, hostName: string): string {
  const host = headerField(hostName.replace(/[^\x21-\x7e]/g, '-'), 255);
  const json = JSON.stringify(entry).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  const time = new Date(entry.createdAt).toISOString();
  return `<${PRI}>1 ${time} ${host} ${APP_NAME} - ${headerField(entry.action, 32)} - ${json}`;
}

/** Octet-counting framing: the message's length in bytes, a space, the message. */
export function octetFrame(message: string): Buffer {
  const body = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length} `), body]);
}

/** A syslog-over-TLS destination; verification is always on (`ca` trusts a private CA instead of the defaults). */
export function createSyslogDestination(settings: SyslogSettings, deps: DestinationDeps): Destination {
  const host = settings.host.replace(/^\[(.*)\]$/, '$1');
  const where = `${net.isIPv6(host) ? `[${host}]` : host}:${settings.port}`;
  let socket: tls.TLSSocket | undefined;

  function drop() {
    socket?.destroy();
    socket = undefined;
  }

  function connect(signal: AbortSignal): Promise<tls.TLSSocket> {
    assertLiteralAllowed(host, deps.allowPrivate);
    return new Promise((resolve, reject) => {
      const s = tls.connect({
        host,
        port: settings.port,
        ...(net.isIP(host) ? {} : { servername: host }),
        ...(settings.ca ? { ca: settings.ca } : {}),
        rejectUnauthorized: true,
        lookup: guardedLookup(deps.allowPrivate),
        timeout: CONNECT_TIMEOUT_MS,
      });
      const fail = (err: Error) => {
        signal.removeEventListener('abort', onAbort);
        s.destroy();
        reject(err);
      };
      const onAbort = () => fail(new Error('aborted'));
      signal.addEventListener('abort', onAbort, { once: true });
      s.once('timeout', () => fail(new Error(`no TLS handshake within ${CONNECT_TIMEOUT_MS / 1000} s`)));
      s.once('error', fail);
      s.once('secureConnect', () => {
        signal.removeEventListener('abort', onAbort);
        s.removeAllListeners('error');
        s.removeAllListeners('timeout');
        s.setTimeout(0);
        // A receiver that closes or breaks the connection makes the next send open a new one.
        s.on('error', () => socket === s && drop());
        s.on('close', () => socket === s && drop());
        s.on('end', () => socket === s && drop());
        s.resume(); // syslog receivers send nothing; drain whatever comes so the socket does not stall
        resolve(s);
      });
    });
  }

  function write(s: tls.TLSSocket, data: Buffer, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(new Error('aborted'));
      const onClose = () => reject(new Error('the receiver closed the connection'));
      signal.addEventListener('abort', onAbort, { once: true });
      s.once('close', onClose);
      s.write(data, (err) => {
        signal.removeEventListener('abort', onAbort);
        s.removeListener('close', onClose);
        if (err) reject(err);
        else resolve();
      });
    });
  }

  return {
    maxBatch: MAX_BATCH,
    async send(batch: Batch, signal: AbortSignal): Promise<SendResult> {
      const data = Buffer.concat(batch.entries.map((e) => octetFrame(syslogMessage(e, deps.hostName))));
      try {
        if (!socket || socket.destroyed || !socket.writable) socket = await connect(signal);
        await write(socket, data, signal);
        return { ok: true, reply: `${batch.entries.length} message(s) written to ${where}` };
      } catch (err) {
        drop();
        return connectionFailure(err, where, signal);
      }
    },
    async close() {
      const s = socket;
      socket = undefined;
      if (!s || s.destroyed) return;
      await new Promise<void>((resolve) => {
        s.once('close', () => resolve());
        s.end();
        setTimeout(() => s.destroy(), 2_000).unref();
      });
    },
  };
}
