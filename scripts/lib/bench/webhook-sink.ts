/**
 * A lean Standard Webhooks receiver for the streams benchmark: one HTTP server on 127.0.0.1 with a path per
 * stream (`/hook/<name>`), each verifying every request with its own secret through the `standardwebhooks`
 * package, as a customer's receiver would, then answering 200. It keeps counts, not the events (a backlog
 * of a million would not fit a test receiver's lists), and hands each verified batch to `onBatch`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface SinkBatch {
  /** The path's name: which stream sent it. */
  name: string;
  webhookId: string;
  /** When its body had arrived and verified (Date.now()). */
  at: number;
  entries: { id: string }[];
}

export class WebhookSink {
  /** Verified batches, and the entries in them (a re-sent batch counts again). */
  batches = 0;
  entries = 0;
  /** Requests whose signature did not verify (answered 400). */
  rejected = 0;
  onBatch: ((b: SinkBatch) => void) | undefined;
  private readonly verifiers = new Map<string, Webhook>();
  private readonly server = http.createServer((req, res) => this.handle(req, res));
  private port = 0;

  /** Adds a path for a stream; returns its URL. */
  route(name: string, secret: string): string {
    this.verifiers.set(name, new Webhook(secret));
    return `http://127.0.0.1:${this.port}/hook/${name}`;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const name = (req.url ?? '').replace(/^\/hook\//, '');
      const verifier = this.verifiers.get(name);
      let payload: { type: string; data: { id: string }[] };
      try {
        if (!verifier) throw new Error(`no route ${req.url}`);
        payload = verifier.verify(
          Buffer.concat(chunks).toString('utf8'),
          req.headers as Record<string, string>,
        ) as typeof payload;
      } catch {
        this.rejected++;
        res.writeHead(400).end('bad signature');
        return;
      }
      const at = Date.now();
      this.batches++;
      this.entries += payload.data.length;
      this.onBatch?.({ name, webhookId: String(req.headers['webhook-id']), at, entries: payload.data });
      res.writeHead(200).end('ok');
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
