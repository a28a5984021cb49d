/**
 * A start-up failure said in one line, and the redaction that keeps credentials out of it. Shared by every
 * layer that connects to something at start-up (OpenSearch in src/store/, Redis for the rate limits in
 * src/http/): it imports nothing of the project.
 */

/** A start-up failure, said in one line that names the variable to fix. */
export class StartupError extends Error {}

/** `text` with every credential of a connection (user:password in a URL, a password) masked. */
export function redact(text: string, conn?: { nodes?: string[]; password?: string | undefined }): string {
  let out = text.replace(/(\/\/)[^/@\s]*@/g, '$1***@');
  const secrets = [conn?.password, ...(conn?.nodes ?? []).map((n) => passwordOf(n))].filter(
    (s): s is string => !!s && s.length >= 3,
  );
  for (const s of secrets) out = out.split(s).join('***');
  return out;
}

function passwordOf(url: string): string | undefined {
  try {
    const u = new URL(url);
    return u.password ? decodeURIComponent(u.password) : undefined;
  } catch {
    return undefined;
  }
}
