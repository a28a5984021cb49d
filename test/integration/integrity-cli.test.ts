/** `npm run verify` as an operator runs it: exit status, the report, saving and using a checkpoint. */
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dayIndex } from '../../src/store/names.ts';
import { TEST_SIGNING_KEY_PEM } from '../helpers.ts';
import { runScript, type ScriptResult } from '../scripts.ts';
import {
  ingestSample,
  integrityCtx,
  rebuildOrgTree,
  resealChain,
  rewriteDayIndex,
  sealAll,
  testKey,
} from '../fixtures/integrity.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'verify-cli-'));

function verifyCli(...args: string[]): Promise<ScriptResult> {
  return runScript('verify', args, { AUDIT_SIGNING_KEY: TEST_SIGNING_KEY_PEM, AUDIT_STATE_DIR: dir });
}

describe('npm run verify', function () {
  this.timeout(120_000);
  const ctx = integrityCtx();
  after(() => ctx.store.close());

  it('says how to use it, and needs --org', async () => {
    const help = await verifyCli('--help');
    expect(help.code).to.equal(0);
    expect(help.stdout).to.contain('--checkpoint <file>');
    const none = await verifyCli();
    expect(none.code).to.equal(1);
    expect(none.stderr).to.contain('--org is required');
  });

  it('is clean on untouched data, then names the edited event and exits non-zero', async () => {
    const { orgId, ids, day } = await ingestSample(ctx, 300);
    await sealAll(ctx, orgId);
    const saved = path.join(dir, `${orgId}.checkpoint.json`);
    const clean = await verifyCli('--org', orgId, '--save-checkpoint', saved);
    expect(clean.code, clean.stdout + clean.stderr).to.equal(0);
    expect(clean.stdout).to.contain('CLEAN');
    expect(clean.stdout).to.contain('301 sealed events recomputed'); // 300 + the org's own creation event
    expect(JSON.parse(fs.readFileSync(saved, 'utf8')).keyId).to.equal(testKey.keyId);

    const victim = ids[123]!;
    await rewriteDayIndex(ctx.store, dayIndex(`${day}T00:00:00Z`), [orgId], (docs) =>
      docs.map((d) => (d.id === victim ? { ...d, description: 'nothing to see' } : d)),
    );
    const tampered = await verifyCli('--org', orgId);
    expect(tampered.code).to.equal(2);
    expect(tampered.stdout).to.contain('NOT CLEAN: 1 problem');
    expect(tampered.stdout).to.match(
      new RegExp(`\\[event-modified\\] seal \\d+, event ${victim}: event ${victim}`),
    );

    const json = await verifyCli('--org', orgId, '--json');
    const report = JSON.parse(json.stdout);
    expect(report.problems.map((p: { eventId: string }) => p.eventId)).to.deep.equal([victim]);

    // Seals and tree re-signed with the (stolen) key are consistent again; the saved checkpoint still exposes it.
    await resealChain(ctx.store, orgId, testKey);
    const treeLeft = await verifyCli('--org', orgId);
    expect(treeLeft.stdout).to.contain('[tree-head-mismatch]');
    await rebuildOrgTree(ctx, orgId);
    expect((await verifyCli('--org', orgId)).code).to.equal(0);
    const withCp = await verifyCli('--org', orgId, '--checkpoint', saved);
    expect(withCp.code).to.equal(2);
    expect(withCp.stdout).to.contain('[checkpoint-mismatch]');
    expect(withCp.stdout).to.contain('history rewritten');
  });

  it('says an org the directory does not know is unknown, never CLEAN', async () => {
    const res = await verifyCli('--org', 'org_that_does_not_exist');
    expect(res.code).to.equal(1);
    expect(res.stdout).not.to.contain('CLEAN');
    expect(res.stderr).to.contain('unknown organization "org_that_does_not_exist"');
  });
});
