import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/config.ts';
import { runScript } from '../scripts.ts';
import { testStore, uniqueId } from '../helpers.ts';

const SCRIPTS = path.join(PROJECT_ROOT, 'scripts');

/** Every script one runs (`npm run x`, `npx tsx scripts/x.ts`): the files in scripts/ no other script imports. */
function entryPoints(): string[] {
  const imported = new Set<string>();
  const walk = (dir: string): string[] =>
    fs
      .readdirSync(dir, { withFileTypes: true })
      .flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
  for (const file of walk(SCRIPTS).filter((f) => f.endsWith('.ts'))) {
    for (const [, spec] of fs.readFileSync(file, 'utf8').matchAll(/from '(\.[^']+)'/g)) {
      imported.add(path.resolve(path.dirname(file), spec!));
    }
  }
  return fs
    .readdirSync(SCRIPTS)
    .filter((f) => f.endsWith('.ts') && !imported.has(path.join(SCRIPTS, f)))
    .map((f) => f.slice(0, -'.ts'.length));
}

describe('scripts refuse what they do not know', function () {
  this.timeout(180_000);
  const store = testStore();
  // Days nobody else uses, ~37,600 days old: past a retention of 30,000 days.
  const DAYS = ['audit-logs-1922.01.01', 'audit-logs-1922.01.02'];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'script-options-'));

  before(async () => {
    await store.indices.delete({ index: DAYS.join(','), ignore_unavailable: true });
    for (const index of DAYS) {
      await store.create({
        index,
        id: 'evt_1',
        refresh: true,
        body: {
          id: 'evt_1',
          orgId: 'org_options',
          action: 'workflow.created',
          resourceType: 'workflow',
          createdAt: `${index.slice(11).replace(/\./g, '-')}T12:00:00Z`,
        },
      });
    }
  });
  after(async () => {
    await store.indices.delete({ index: DAYS.join(','), ignore_unavailable: true });
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const exists = async (index: string) => (await store.indices.exists({ index })).body;

  it('retention with a misspelt --pattern exits 1 naming it and deletes nothing, even with --yes', async () => {
    const dry = await runScript('retention', ['--days', '5', '--patern', DAYS[0]!, '--dry-run']);
    expect(dry.code).to.equal(1);
    expect(dry.stderr).to.contain('unknown option --patern (did you mean --pattern?)');
    expect(dry.stdout).to.equal(''); // no plan over every index
    const yes = await runScript('retention', ['--days', '30000', '--patern', DAYS[0]!, '--yes']);
    expect(yes.code).to.equal(1);
    expect(yes.stderr).to.contain('unknown option --patern (did you mean --pattern?)');
    for (const index of DAYS) expect(await exists(index), index).to.equal(true);
  });

  it('export with a misspelt filter exits 1 naming it and writes nothing', async () => {
    const out = path.join(dir, 'x.ndjson');
    const res = await runScript('export', ['--org', uniqueId('org'), '--out', out, '--acton', 'x']);
    expect(res.code).to.equal(1);
    expect(res.stderr).to.contain('unknown option --acton (did you mean --action?)');
    expect(fs.existsSync(out)).to.equal(false);
  });

  it('verify with an option it does not have exits 1 naming it', async () => {
    const res = await runScript('verify', ['--org', uniqueId('org'), '--fast']);
    expect(res.code).to.equal(1);
    expect(res.stderr).to.contain('unknown option --fast');
  });

  it('admin refuses an option that belongs to another command, and changes nothing', async () => {
    const orgId = uniqueId('org_opts');
    const res = await runScript('admin', [
      'org:put',
      orgId,
      '--name',
      'A',
      '--plan',
      'team',
      '--role',
      'owner',
    ]);
    expect(res.code).to.equal(1);
    expect(res.stderr).to.contain('org:put takes no --role (its options: --name, --plan)');
    const show = await runScript('admin', ['org:show', orgId]);
    expect(show.code).to.equal(1);
    expect(show.stderr).to.contain(`Organization "${orgId}"`); // not created
  });

  it('an option without its value exits 1 naming it', async () => {
    for (const [script, args, option] of [
      ['retention', ['--dry-run', '--days'], '--days'],
      ['retention', ['--days', '--dry-run'], '--days'],
      ['engine', ['status', '--instance'], '--instance'],
      ['bench', ['--only'], '--only'],
    ] as const) {
      const res = await runScript(script, [...args]);
      expect(res.code, `${script} ${args.join(' ')}`).to.equal(1);
      expect(res.stderr).to.contain(`${option} needs a value`);
    }
  });

  it('every script refuses an unknown option, and its --help lists every option it takes', async function () {
    this.timeout(600_000); // two runs of each of some twenty scripts, each loading its imports afresh
    const scripts = entryPoints();
    expect(scripts).to.include.members(['retention', 'export', 'verify', 'admin', 'test', 'start', 'bench']);
    const check = async (script: string) => {
      // With --help as well: a script that does not refuse the option shows its help and does nothing.
      const bogus = await runScript(script, ['--no-such-option', '--help']);
      expect(bogus.code, `${script}: ${bogus.stdout}`).to.equal(1);
      expect(bogus.stderr, script).to.contain('unknown option --no-such-option');
      const help = await runScript(script, ['--help']);
      expect(help.code, `${script} --help: ${help.stderr}`).to.equal(0);
      const options = /^options: (.*)$/m.exec(bogus.stderr)![1]!.split(', ');
      for (const option of options.filter((o) => /^--[\w-]+$/.test(o) && o !== '--help')) {
        expect(help.stdout, `${script} --help`).to.contain(option);
      }
    };
    for (let i = 0; i < scripts.length; i += 4) await Promise.all(scripts.slice(i, i + 4).map(check));
  });
});
