/**
 * S3Proxy (org.gaul:s3proxy, from Maven Central) as the S3-compatible server of the stream tests and the
 * streams benchmark: the filesystem provider under a temporary directory, AWS v2/v4 signatures, on a free
 * port of 127.0.0.1. The jar is fetched once with Maven into ~/.m2 (cached like the engine's downloads).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { freePort } from './engine/engine.ts';

const VERSION = '2.6.0';
const JAR = path.join(
  os.homedir(),
  '.m2/repository/org/gaul/s3proxy',
  VERSION,
  `s3proxy-${VERSION}-jar-with-dependencies.jar`,
);

function ensureJar(): string {
  if (fs.existsSync(JAR)) return JAR;
  const r = spawnSync(
    'mvn',
    [
      '-q',
      'dependency:get',
      `-Dartifact=org.gaul:s3proxy:${VERSION}:jar:jar-with-dependencies`,
      '-Dtransitive=false',
    ],
    { stdio: 'inherit' },
  );
  if (r.status !== 0 || !fs.existsSync(JAR)) throw new Error('could not fetch S3Proxy with mvn');
  return JAR;
}

/** A JDK 17+ java: S3Proxy 2.x needs 17. */
function java(): string {
  const jvm = '/usr/lib/jvm';
  const candidates = fs.existsSync(jvm) ? fs.readdirSync(jvm).filter((d) => /(-|^)(17|21|25)/.test(d)) : [];
  for (const d of candidates.sort()) {
    const bin = path.join(jvm, d, 'bin', 'java');
    if (fs.existsSync(bin)) return bin;
  }
  return 'java';
}

export interface S3Proxy {
  endpoint: string;
  /** The server's process id (for its CPU time). */
  pid: number;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  client: S3Client;
  createBucket(name: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startS3Proxy(): Promise<S3Proxy> {
  const jar = ensureJar();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 's3proxy-'));
  fs.mkdirSync(path.join(dir, 'data'));
  const port = await freePort();
  const accessKeyId = 'streamtestaccess';
  const secretAccessKey = 'streamtestsecret0123456789';
  const props = path.join(dir, 's3proxy.properties');
  fs.writeFileSync(
    props,
    [
      `s3proxy.endpoint=http://127.0.0.1:${port}`,
      's3proxy.authorization=aws-v2-or-v4',
      `s3proxy.identity=${accessKeyId}`,
      `s3proxy.credential=${secretAccessKey}`,
      'jclouds.provider=filesystem',
      `jclouds.filesystem.basedir=${path.join(dir, 'data')}`,
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(java(), ['-jar', jar, '--properties', props], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`S3Proxy exited: ${stderr}`);
    const up = await fetch(endpoint).then(
      () => true,
      () => false,
    );
    if (up) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`S3Proxy did not start: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const region = 'us-east-1';
  const client = new S3Client({
    endpoint,
    region,
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return {
    endpoint,
    pid: child.pid!,
    accessKeyId,
    secretAccessKey,
    region,
    client,
    async createBucket(name) {
      await client.send(new CreateBucketCommand({ Bucket: name }));
    },
    async stop() {
      client.destroy();
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
