/**
 * The S3-compatible destination (AWS S3, MinIO, S3Proxy …) through the AWS SDK: each batch is one gzip NDJSON
 * object at `<prefix>/<orgId>/YYYY/MM/DD/HH/<first id>-<last id>.ndjson.gz`, the hour of the batch's first
 * entry. The key depends only on the batch, so a retry rewrites the same object instead of adding one.
 */
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { AddressRefused } from './address-guard.ts';
import type { Batch, Destination, DestinationDeps, SendResult } from './destination.ts';
import { checkedUrl, failureOf, guardedAgents } from './guarded-http.ts';

const gzip = promisify(zlib.gzip);

export interface S3Settings {
  endpoint?: string;
  region: string;
  bucket: string;
  prefix?: string;
  accessKeyId: string;
  secretAccessKey: string;
  forcePathStyle?: boolean;
  ca?: string;
}

export function objectKey(prefix: string | undefined, batch: Batch): string {
  const first = batch.entries[0]!;
  const last = batch.entries[batch.entries.length - 1]!;
  const at = new Date(first.createdAt).toISOString();
  const hour = `${at.slice(0, 4)}/${at.slice(5, 7)}/${at.slice(8, 10)}/${at.slice(11, 13)}`;
  const head = prefix ? `${prefix.replace(/\/+$/, '')}/` : '';
  return `${head}${batch.orgId}/${hour}/${first.id}-${last.id}.ndjson.gz`;
}

export function s3Destination(settings: S3Settings, deps: DestinationDeps): Destination {
  const agents = guardedAgents(deps.allowPrivate, settings.ca);
  const client = new S3Client({
    region: settings.region,
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    forcePathStyle: settings.forcePathStyle ?? false,
    credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey },
    // The delivery loop retries with its own backoff; S3-compatible servers may not take the new checksums.
    maxAttempts: 1,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: { httpAgent: agents.http, httpsAgent: agents.https },
  });
  const what = `S3 bucket ${settings.bucket}`;
  return {
    maxBatch: 2000,
    async send(batch: Batch, signal: AbortSignal): Promise<SendResult> {
      try {
        if (settings.endpoint) checkedUrl(settings.endpoint, deps.allowPrivate);
        const body = await gzip(batch.entries.map((e) => `${JSON.stringify(e)}\n`).join(''));
        const key = objectKey(settings.prefix, batch);
        await client.send(
          new PutObjectCommand({
            Bucket: settings.bucket,
            Key: key,
            Body: body,
            ContentType: 'application/x-ndjson',
            ContentEncoding: 'gzip',
          }),
          { abortSignal: signal },
        );
        return { ok: true, reply: `stored ${key}` };
      } catch (err) {
        return s3Failure(err, what);
      }
    },
    async close() {
      client.destroy();
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}

function s3Failure(err: unknown, what: string): SendResult {
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode;
  if (err instanceof AddressRefused || status === undefined) return failureOf(err, what);
  const retryable = status === 429 || status === 408 || status >= 500;
  const cause =
    status === 403 || status === 401
      ? ' (the credentials were refused)'
      : status === 404
        ? ' (no such bucket)'
        : '';
  return {
    ok: false,
    retryable,
    status,
    error: `${what} answered ${status} ${e.name ?? ''}${cause}: ${e.message ?? ''}`.trim(),
  };
}
