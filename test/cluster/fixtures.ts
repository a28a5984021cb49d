/**
 * Real secured endpoints in front of the test engine, started by the tests themselves: nginx terminating
 * TLS (a CA and server certificate made with openssl) and enforcing basic auth; a SigV4-checking HTTP
 * endpoint; redis-server for shared rate limits. Each lives in a temp dir and is killed afterwards.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { AppContext } from '../../src/context.ts';
import { createApiKey } from '../../src/directory/api-keys.ts';
import { putMember } from '../../src/directory/members.ts';
import { freePort } from '../../scripts/lib/engine/engine.ts';
import { opensearchUrl, seedIngestKey, seedOrg, uniqueId } from '../helpers.ts';

export const NGINX_USER = 'audit';
export const NGINX_PASSWORD = 'correct-horse-battery';

const run = (cmd: string, args: string[], cwd: string) => {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.error ?? r.stderr}`);
  return r.stdout;
};

/** A CA and a server certificate for `localhost` only (so 127.0.0.1 is a wrong host name). */
export function makeCertificates(dir: string): { ca: string; cert: string; key: string } {
  run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=audit test CA'], dir); // prettier-ignore
  run('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost'], dir); // prettier-ignore
  fs.writeFileSync(path.join(dir, 'san.ext'), 'subjectAltName=DNS:localhost\n');
  run('openssl', ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'san.ext'], dir); // prettier-ignore
  // A client certificate from the same CA, for mutual TLS.
  run('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/CN=audit-log-service'], dir); // prettier-ignore
  run('openssl', ['x509', '-req', '-in', 'client.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'client.pem', '-days', '2'], dir); // prettier-ignore
  return {
    ca: path.join(dir, 'ca.pem'),
    cert: path.join(dir, 'server.pem'),
    key: path.join(dir, 'server.key'),
  };
}

async function waitForPort(port: number, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`exited early (${child.exitCode}): ${log()}`);
    const open = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listens on ${port}: ${log()}`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

export interface Nginx {
  /** `https://localhost:<port>`: the name the certificate carries. */
  url: string;
  port: number;
  ca: string;
  /** A client certificate and key the CA signed (for `startNginx(…, { mutualTls: true })`). */
  clientCert: string;
  clientKey: string;
  dir: string;
  stop(): Promise<void>;
}

/**
 * nginx terminating TLS with basic auth (NGINX_USER / NGINX_PASSWORD) in front of every test engine node.
 * `extra` adds location blocks (e.g. a policy refusing an API with 403, as a gateway would).
 */
export async function startNginx(extra = '', opts: { mutualTls?: boolean } = {}): Promise<Nginx> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-nginx-'));
  const { ca, cert, key } = makeCertificates(dir);
  const hash = run('openssl', ['passwd', '-apr1', NGINX_PASSWORD], dir).trim();
  fs.writeFileSync(path.join(dir, 'htpasswd'), `${NGINX_USER}:${hash}\n`);
  const port = await freePort(0);
  const upstreams = opensearchUrl()
    .split(',')
    .map((u) => `server ${new URL(u).host};`)
    .join(' ');
  const conf = `${process.getuid?.() === 0 ? 'user root;' : ''}
daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 512; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream opensearch { ${upstreams} keepalive 16; }
  server {
    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${cert};
    ssl_certificate_key ${key};
    ${opts.mutualTls ? `ssl_client_certificate ${ca}; ssl_verify_client on;` : ''}
    auth_basic "opensearch";
    auth_basic_user_file ${dir}/htpasswd;
    client_max_body_size 100m;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Authorization "";
    ${extra}
    location / { proxy_pass http://opensearch; }
  }
}
`;
  fs.writeFileSync(path.join(dir, 'nginx.conf'), conf);
  const child = spawn('nginx', ['-e', `${dir}/error.log`, '-p', dir, '-c', `${dir}/nginx.conf`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  await waitForPort(port, child, () => stderr + safeRead(path.join(dir, 'error.log')));
  return {
    url: `https://localhost:${port}`,
    port,
    ca,
    clientCert: path.join(dir, 'client.pem'),
    clientKey: path.join(dir, 'client.key'),
    dir,
    async stop() {
      await stopChild(child);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function safeRead(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

export const AWS_TEST_CREDENTIALS = {
  accessKeyId: 'AKIDAUDITTEST0000001',
  secretAccessKey: 'audit-test-secret-access-key-0000000000',
};
export const AWS_TEST_REGION = 'eu-test-1';

export interface SigV4Endpoint {
  url: string;
  /** Requests refused for a bad or missing signature. */
  refused: number;
  /** Requests whose signature checked out and were forwarded. */
  accepted: number;
  stop(): Promise<void>;
}

/**
 * An HTTP endpoint that recomputes each request's SigV4 signature with the fixed test credentials
 * (@smithy/signature-v4, independent of the client's signer), answers 403 to a bad one, as AWS does, and
 * forwards good ones to the engine.
 */
export async function startSigV4Endpoint(service = 'es'): Promise<SigV4Endpoint> {
  const target = new URL(opensearchUrl().split(',')[0]!);
  const signer = new SignatureV4({
    credentials: AWS_TEST_CREDENTIALS,
    region: AWS_TEST_REGION,
    service,
    sha256: Sha256,
  });
  const state = { refused: 0, accepted: 0 };
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const ok = await verify(signer, req, body, service).catch(() => false);
    if (!ok) {
      state.refused++;
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          message:
            'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
        }),
      );
      return;
    }
    state.accepted++;
    const headers = { ...req.headers };
    for (const h of ['authorization', 'host', 'x-amz-date', 'x-amz-content-sha256', 'x-amz-security-token'])
      delete headers[h];
    const up = http.request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    up.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    up.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    get refused() {
      return state.refused;
    },
    get accepted() {
      return state.accepted;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

async function verify(
  signer: SignatureV4,
  req: http.IncomingMessage,
  body: Buffer,
  service: string,
): Promise<boolean> {
  const auth = req.headers.authorization ?? '';
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(
      auth,
    );
  if (!m || m[1] !== AWS_TEST_CREDENTIALS.accessKeyId || m[3] !== AWS_TEST_REGION || m[4] !== service)
    return false;
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  const signingDate = new Date(
    amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'),
  );
  if (Number.isNaN(signingDate.getTime()) || Math.abs(Date.now() - signingDate.getTime()) > 5 * 60_000)
    return false;
  // The payload hash the client declares must be the body's, else a signed header could cover another body.
  const bodyHash = crypto.createHash('sha256').update(body).digest('hex');
  if (req.headers['x-amz-content-sha256'] !== bodyHash) return false;
  const signed = m[5]!.split(';');
  const headers: Record<string, string> = {};
  for (const h of signed) headers[h] = String(req.headers[h] ?? '');
  const url = new URL(req.url ?? '/', 'http://x');
  const query: Record<string, string> = {};
  url.searchParams.forEach((v, k) => (query[k] = v));
  const request = {
    method: req.method ?? 'GET',
    protocol: 'http:',
    hostname: headers.host ?? '',
    path: url.pathname, // as sent: signers escape the (already escaped) path once more
    query,
    headers,
    body,
  };
  const out = await signer.sign(request, { signingDate, signableHeaders: new Set(signed) });
  const expected = /Signature=([0-9a-f]{64})/.exec(String(out.headers.authorization))?.[1];
  return expected === m[6];
}

export interface Redis {
  url: string;
  stop(): Promise<void>;
}

/** redis-server on a free loopback port, nothing persisted. */
export async function startRedis(): Promise<Redis> {
  const port = await freePort(0);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-redis-'));
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  await waitForPort(port, child, () => out);
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      await stopChild(child);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** An enterprise org with an ingest key and an owner's personal (read) key. */
export async function orgWithKeys(ctx: AppContext): Promise<{ orgId: string; ingest: string; read: string }> {
  const orgId = await seedOrg(ctx);
  const userId = uniqueId('usr');
  await putMember(ctx, orgId, userId, { email: `${userId}@example.com`, name: 'Owner', role: 'owner' });
  const read = (await createApiKey(ctx, orgId, { type: 'personal', userId })).key;
  return { orgId, ingest: await seedIngestKey(ctx, orgId), read };
}
