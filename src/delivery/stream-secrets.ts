/**
 * The streams' secret settings (webhook secret, tokens, API keys, S3 secret key) are encrypted with
 * AES-256-GCM before they are stored. The key is AUDIT_STREAM_KEY or one generated into AUDIT_STATE_DIR:
 * never in OpenSearch, so a copy of the database alone does not yield a receiver's credentials.
 */
import crypto from 'node:crypto';
import type { Config } from '../config.ts';
import { loadOrCreateSecret } from '../store/secrets.ts';
import type { SealedSecrets } from '../store/stream-configs.ts';

export type SecretValues = Record<string, string>;

export class StreamSecrets {
  private readonly key: Buffer;

  constructor(cfg: Pick<Config, 'stateDir' | 'streams'>) {
    const b64 =
      cfg.streams.key ??
      loadOrCreateSecret(cfg.stateDir, 'stream-key', () => crypto.randomBytes(32).toString('base64'));
    this.key = Buffer.from(b64.trim(), 'base64');
  }

  /** `streamId` is bound in as associated data: a sealed value copied onto another stream does not open. */
  seal(streamId: string, values: SecretValues): SealedSecrets {
    const iv = crypto.randomBytes(12);
    const cipher = crypto.createCipheriv('aes-256-gcm', this.key, iv).setAAD(Buffer.from(streamId));
    const data = Buffer.concat([cipher.update(JSON.stringify(values), 'utf8'), cipher.final()]);
    return {
      iv: iv.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
      data: data.toString('base64'),
    };
  }

  open(streamId: string, sealed: SealedSecrets | undefined): SecretValues {
    if (!sealed) return {};
    const decipher = crypto
      .createDecipheriv('aes-256-gcm', this.key, Buffer.from(sealed.iv, 'base64'))
      .setAAD(Buffer.from(streamId));
    decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
    const plain = Buffer.concat([decipher.update(Buffer.from(sealed.data, 'base64')), decipher.final()]);
    return JSON.parse(plain.toString('utf8')) as SecretValues;
  }
}

/** What an answer shows of a secret: its last 4 characters. */
export const secretHint = (value: string) => `…${value.slice(-4)}`;
