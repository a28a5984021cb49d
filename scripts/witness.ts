/** `npm run witness`: a transparency-log witness anyone can run (c2sp.org/tlog-witness, src/witness/). */
import express from 'express';
import { intFlag, runCli, stringFlag, UsageError } from './lib/cli.ts';
import { Witness, parseTrustedLog, type TrustedLog } from '../src/witness/witness.ts';
import { witnessRouter } from '../src/witness/witness-routes.ts';

const HELP = `Usage: npm run witness -- --state <dir> --log <origin prefix>=<log verifier key> [--log …]
                           [--port <port>] [--host <address>] [--name <witness name>]

Cosigns a log's checkpoint only when it is consistent with the newest one it cosigned before, so a log
that rewrites or rolls back its history gets no cosignature. Speaks POST /add-checkpoint and
GET /<origin hash>/checkpoint. Its Ed25519 key is generated into <dir> on first start; its verifier key
(for AUDIT_WITNESSES and for clients) is printed at start.

Options:
  --state <dir>     where the key and the newest cosigned checkpoint of each log are kept (required)
  --log <p>=<vkey>  trust logs whose origin starts with "<p>/", signed by the key of <vkey> (the
                    verifierKey of GET /api/v1/audit-logs/integrity/public-key); repeat for more
  --port <port>     port to listen on (default 3200)
  --host <address>  address to listen on (default 127.0.0.1)
  --name <name>     the witness's key name (default localhost/witness-<key hash>)`;

const OPTIONS = {
  state: { type: 'string' },
  log: { type: 'string', multiple: true },
  port: { type: 'string' },
  host: { type: 'string' },
  name: { type: 'string' },
} as const;

runCli(HELP, { options: OPTIONS }, async (args) => {
  const state = stringFlag(args, 'state', true);
  const specs = (args.log as string[] | undefined) ?? [];
  if (specs.length === 0) throw new UsageError('--log is required: which logs does this witness follow?');
  const port = intFlag(args, 'port', { default: 3200, min: 0, max: 65535 });
  const host = stringFlag(args, 'host') ?? '127.0.0.1';
  const logs = new Map<string, TrustedLog>();
  for (const spec of specs) {
    let trusted;
    try {
      trusted = parseTrustedLog(spec);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const log = logs.get(trusted.prefix) ?? { prefix: trusted.prefix, keys: [] };
    log.keys.push(trusted.key);
    logs.set(trusted.prefix, log);
  }
  const witness = new Witness(state, [...logs.values()], stringFlag(args, 'name'));
  const app = express();
  app.disable('x-powered-by');
  app.use(witnessRouter(witness));
  await new Promise<void>((resolve, reject) => {
    const server = app.listen(port, host, () => {
      const addr = server.address();
      const bound = typeof addr === 'object' && addr ? addr.port : port;
      console.log(`witness ${witness.signer.name} listening on http://${host}:${bound}`);
      console.log(`verifier key: ${witness.verifierKey}`);
      resolve();
    });
    server.once('error', reject);
    // Its state is on disk after every answer: stopping need not wait for idle keep-alive connections.
    const stop = () => {
      server.close(() => process.exit(0));
      server.closeAllConnections();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
});
