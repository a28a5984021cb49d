/**
 * What the HTTPS contract stand-ins (Splunk HEC, Datadog intake) share: a TLS server on 127.0.0.1 with a
 * certificate from a throw-away CA, bodies read up to a bound, and scripted faults answered before the
 * contract is looked at (so fault tests can make the receiver answer 429 + Retry-After, 503 or 500, take
 * its time, or hang up mid-body). Started again on the same `port`, it is a receiver that came back.
 */
import fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

export interface Fault {
  /** The status answered; without one the request is then handled as usual (after `delayMs`). */
  status?: number;
  /** Sent as the Retry-After header (seconds). */
  retryAfter?: number;
  body?: unknown;
  /** Waits this long before answering. */
  delayMs?: number;
  /** Closes the connection as soon as the body starts arriving, answering nothing. */
  hangUp?: boolean;
}

export interface ServerFiles {
  cert: string;
  key: string;
}

export type Handler = (req: IncomingMessage, body: Buffer, res: ServerResponse) => void | Promise<void>;

export class HttpsStandIn {
  /**
   * Faults answered, first in first out, to the next requests (before anything else is checked); a
   * `'pass'` lets its request through, so a fault can hit the second request of a batch.
   */
  readonly faults: Array<Fault | 'pass'> = [];
  /** Every request seen, faults included. */
  requests = 0;

  private constructor(
    private readonly server: https.Server,
    readonly url: string,
  ) {}

  static async start(files: ServerFiles, maxBody: number, handler: Handler, port = 0): Promise<HttpsStandIn> {
    let self: HttpsStandIn | undefined;
    const server = https.createServer(
      { cert: fs.readFileSync(files.cert), key: fs.readFileSync(files.key) },
      (req, res) => {
        const stand = self!;
        stand.requests += 1;
        const fault = stand.faults.shift();
        if (fault !== 'pass' && fault?.hangUp) {
          req.once('data', () => req.socket.destroy());
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        let over = false;
        req.on('data', (c: Buffer) => {
          size += c.length;
          if (size > maxBody) over = true;
          else chunks.push(c);
        });
        req.on('end', async () => {
          if (fault && fault !== 'pass') {
            if (fault.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
            if (fault.status !== undefined) {
              const headers: Record<string, string> = { 'Content-Type': 'application/json' };
              if (fault.retryAfter !== undefined) headers['Retry-After'] = String(fault.retryAfter);
              res.writeHead(fault.status, headers).end(JSON.stringify(fault.body ?? { fault: fault.status }));
              return;
            }
          }
          if (over) return answer(res, 413, { text: 'Content too large', size });
          Promise.resolve(handler(req, Buffer.concat(chunks), res)).catch((err: unknown) =>
            answer(res, 500, { text: String(err) }),
          );
        });
      },
    );
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    const bound = (server.address() as AddressInfo).port;
    self = new HttpsStandIn(server, `https://localhost:${bound}`);
    return self;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

export function answer(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
}
