/**
 * The README's tour of the API, run as written against a fresh local demo: the shell blocks of its "A tour of
 * the API" section, in order, in one bash, from a folder laid out like the checkout of a local `npm start`
 * (its generated token in .cache/state, examples/ beside it). Only the service's address is replaced. The
 * README is parsed here, so the test fails as soon as the tour drifts from what the service does.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/config.ts';
import { localSetup, seedDemo } from '../../scripts/lib/first-run.ts';
import { startService, type RunningService } from '../../src/server.ts';
import { opensearchUrl, testConfig, uniqueId } from '../helpers.ts';

/** The ```sh blocks of the README section titled `title`. */
function shellBlocks(readme: string, title: string): string[] {
  const start = readme.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`README has no section "${title}"`);
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

function bash(script: string, cwd: string): Promise<{ code: number; out: string }> {
  const child = spawn('bash', ['-eo', 'pipefail', '-c', script], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, out });
    }),
  );
}

describe('README: the tour of the API runs as written on a fresh demo', function () {
  this.timeout(180_000);
  const checkout = fs.mkdtempSync(path.join(os.tmpdir(), 'readme-tour-'));
  let svc: RunningService;

  before(async () => {
    fs.symlinkSync(path.join(PROJECT_ROOT, 'examples'), path.join(checkout, 'examples'));
    const cfg = localSetup(
      testConfig({
        AUDIT_STATE_DIR: path.join(checkout, '.cache', 'state'),
        AUDIT_SEAL_INTERVAL_SECONDS: '2',
      }),
      { demo: true },
    );
    svc = await startService({ ...cfg, opensearchUrl: opensearchUrl() });
    await seedDemo({ cfg, store: svc.store }, undefined, { orgId: uniqueId('demo'), events: 200 });
  });
  after(() => svc?.close(100));

  it('sets every variable it uses, writes, reads by actorId and checks a proof offline', async () => {
    const blocks = shellBlocks(
      fs.readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8'),
      'A tour of the API',
    );
    expect(blocks.length).to.be.at.least(3);
    const port = new URL(svc.url).port;
    const script = blocks.join('\n').replaceAll('http://localhost:3000', `http://localhost:${port}`);
    // Unset variables stop the tour instead of expanding to nothing.
    const { code, out } = await bash(`set -u\n${script}`, checkout);
    expect(code, out).to.equal(0);
    expect(out, 'an API error').not.to.match(/"code":"[a-z_]+"/);
    expect(out).not.to.contain('undefined');
    const proved = /entry (\w{26}) is leaf \d+ of \S+\/acme at size \d+, signed by \S+/.exec(out);
    expect(proved, out).not.to.equal(null);
    expect(out, 'the id the write answered is the one proved').to.contain(`${proved![1]}\n`);
  });
});
