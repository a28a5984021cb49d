/**
 * Secrets the service generates at first start when none is configured (cursor HMAC secret, checkpoint
 * signing key). They are kept in AUDIT_STATE_DIR with mode 0600, not in OpenSearch, so read access to the
 * database alone does not yield them. Several instances must share the state dir or be given the secrets.
 */
import fs from 'node:fs';
import path from 'node:path';

/** The secret stored under `name`, created with `generate` (atomically, first writer wins) when absent. */
export function loadOrCreateSecret(stateDir: string, name: string, generate: () => string): string {
  const file = path.join(stateDir, name);
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  fs.writeFileSync(tmp, generate(), { mode: 0o600 });
  try {
    fs.linkSync(tmp, file); // fails if another process created it first; then theirs wins
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  return fs.readFileSync(file, 'utf8');
}
