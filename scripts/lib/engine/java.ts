/** Finds a JDK the pinned OpenSearch can run on. */
import fs from 'node:fs';
import path from 'node:path';

/** OpenSearch 3.x needs Java 21 or newer. */
export function minimumJava(opensearchVersion: string): number {
  return Number(opensearchVersion.split('.')[0]) >= 3 ? 21 : 11;
}

/** The major version of the JDK at `home`, read from its `release` file; undefined when it is no JDK. */
export function javaMajor(home: string): number | undefined {
  try {
    const release = fs.readFileSync(path.join(home, 'release'), 'utf8');
    const m = /JAVA_VERSION="(\d+)(?:\.(\d+))?/.exec(release);
    if (!m) return undefined;
    const major = Number(m[1]);
    return major === 1 ? Number(m[2]) : major;
  } catch {
    return undefined;
  }
}

export class JavaNotFoundError extends Error {}

/**
 * The explicit home (OPENSEARCH_JAVA_HOME or JAVA_HOME) when it is new enough, else the newest suitable JDK
 * under /usr/lib/jvm.
 */
export function findJava(opensearchVersion: string, explicitHome?: string, jvmRoot = '/usr/lib/jvm'): string {
  const need = minimumJava(opensearchVersion);
  if (explicitHome) {
    const major = javaMajor(explicitHome);
    if (major !== undefined && major >= need) return explicitHome;
  }
  let best: { home: string; major: number } | undefined;
  let entries: string[] = [];
  try {
    entries = fs.readdirSync(jvmRoot);
  } catch {
    /* no JDKs installed system-wide */
  }
  for (const name of entries) {
    const home = path.join(jvmRoot, name);
    if (fs.lstatSync(home).isSymbolicLink()) continue;
    const major = javaMajor(home);
    if (major !== undefined && major >= need && (!best || major > best.major)) best = { home, major };
  }
  if (best) return best.home;
  throw new JavaNotFoundError(
    `OpenSearch ${opensearchVersion} needs a JDK ${need} or newer, and none was found ` +
      `(checked OPENSEARCH_JAVA_HOME/JAVA_HOME${explicitHome ? ` = ${explicitHome}` : ''} and ${jvmRoot}). ` +
      `Install one (for example Debian's openjdk-${need}-jdk-headless or a Temurin ${need}+ JDK) and either ` +
      `put it under ${jvmRoot} or point OPENSEARCH_JAVA_HOME at it; or set OPENSEARCH_URL to use an existing ` +
      `cluster instead of the local engine.`,
  );
}
