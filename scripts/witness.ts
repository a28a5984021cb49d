/** `npm run witness`: a transparency-log witness anyone can run (c2sp.org/tlog-witness, src/witness/). */
import express from 'express';
import { parseArgs } from 'node:util';
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

function main(): void {
  const { values } = parseArgs({
    strict: true,
    options: {
      state: { type: 'string' },
      log: { type: 'string', multiple: true },
      port: { type: 'string', default: '3200' },
      host: { type: 'string', default: '127.0.0.1' },
      name: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  if (!values.state) throw new Error('--state is required');
  if (!values.log?.length) throw new Error('--log is required: which logs does this witness follow?');
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--port must be a port number (got "${values.port}")`);
  const logs = new Map<string, TrustedLog>();
  for (const spec of values.log) {
    const { prefix, key } = parseTrustedLog(spec);
    const log = logs.get(prefix) ?? { prefix, keys: [] };
    log.keys.push(key);
    logs.set(prefix, log);
  }
  const witness = new Witness(values.state, [...logs.values()], values.name);
  const app = express();
  app.disable('x-powered-by');
  app.use(witnessRouter(witness));
  const server = app.listen(port, values.host, () => {
    const addr = server.address();
    const bound = typeof addr === 'object' && addr ? addr.port : port;
    console.log(`witness ${witness.signer.name} listening on http://${values.host}:${bound}`);
    console.log(`verifier key: ${witness.verifierKey}`);
  });
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

try {
  main();
} catch (err) {
  console.error(`error: ${err instanceof Error ? err.message : String(err)}\n(run with --help for usage)`);
  process.exitCode = 1;
}
