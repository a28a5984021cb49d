/**
 * Fetches the OpenSearch distribution and plugin zips from Maven Central with `mvn`, into a cache outside git.
 * Each file is fetched into a scratch folder and renamed into place only when complete, so an interrupted
 * download never leaves a broken cache. A plugin that Maven Central does not publish is remembered, so later
 * starts neither ask again nor fail.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface Artifact {
  /** Maven coordinates `group:artifact:version:zip`. */
  coords: string;
  file: string;
}

export function distributionArtifact(version: string): Artifact {
  return {
    coords: `org.opensearch.distribution.integ-test-zip:opensearch:${version}:zip`,
    file: `opensearch-${version}.zip`,
  };
}

/** The plugins the engine should carry; index management needs job scheduler. */
export function pluginArtifacts(version: string): Artifact[] {
  return ['opensearch-job-scheduler', 'opensearch-index-management'].map((name) => ({
    coords: `org.opensearch.plugin:${name}:${version}.0:zip`,
    file: `${name}-${version}.0.zip`,
  }));
}

export class DownloadError extends Error {}

type FetchResult = { status: 'cached' | 'downloaded'; path: string } | { status: 'unpublished' };

/** Returns the cached file, downloading it first when needed. */
export function fetchArtifact(
  downloads: string,
  artifact: Artifact,
  log: (line: string) => void,
): FetchResult {
  fs.mkdirSync(downloads, { recursive: true });
  const target = path.join(downloads, artifact.file);
  if (fs.existsSync(target)) return { status: 'cached', path: target };
  const marker = `${target}.unpublished`;
  if (fs.existsSync(marker)) return { status: 'unpublished' };

  const mvn = spawnSync('mvn', ['-v'], { encoding: 'utf8' });
  if (mvn.error || mvn.status !== 0) {
    throw new DownloadError(
      'Maven (`mvn`) is needed to fetch OpenSearch from Maven Central and was not found on PATH. ' +
        'Install it (Debian: apt-get install maven), or set OPENSEARCH_URL to use an existing cluster.',
    );
  }
  log(`fetching ${artifact.coords} from Maven Central …`);
  const scratch = fs.mkdtempSync(path.join(downloads, '.partial-'));
  try {
    const r = spawnSync(
      'mvn',
      [
        '-B',
        '-q',
        'org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy',
        `-Dartifact=${artifact.coords}`,
        `-DoutputDirectory=${scratch}`,
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const out = `${r.stdout}\n${r.stderr}`;
    if (r.status !== 0) {
      if (/Could not find artifact|was not found in/.test(out)) {
        fs.writeFileSync(
          marker,
          `${new Date().toISOString()} Maven Central does not publish ${artifact.coords}\n`,
        );
        return { status: 'unpublished' };
      }
      throw new DownloadError(
        `mvn could not fetch ${artifact.coords}:\n${out.trim().split('\n').slice(-8).join('\n')}`,
      );
    }
    const got = path.join(scratch, artifact.file);
    if (!fs.existsSync(got))
      throw new DownloadError(`mvn finished but ${artifact.file} is missing in ${scratch}`);
    fs.renameSync(got, target);
    return { status: 'downloaded', path: target };
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}
