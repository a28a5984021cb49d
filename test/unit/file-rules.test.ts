/**
 * Files of src/ a reader can tell apart and read in one sitting: no two share a name, no TypeScript module is
 * over 300 lines (docs/code-layout.md).
 */
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/config.ts';

const SRC = path.join(PROJECT_ROOT, 'src');
const MAX_LINES = 300;

/** Every file below src/, relative to it. */
function srcFiles(): string[] {
  return (fs.readdirSync(SRC, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((e) => e.isFile())
    .map((e) => path.relative(SRC, path.join(e.parentPath, e.name)))
    .sort();
}

describe('files of src/', () => {
  it('finds them', () => {
    expect(srcFiles()).to.include.members(['app.ts', 'store/client.ts']);
  });

  it('no two share a name', () => {
    const byName = new Map<string, string[]>();
    for (const f of srcFiles()) byName.set(path.basename(f), [...(byName.get(path.basename(f)) ?? []), f]);
    expect([...byName.values()].filter((paths) => paths.length > 1)).to.deep.equal([]);
  });

  it(`no TypeScript module is over ${MAX_LINES} lines`, () => {
    const long = srcFiles()
      .filter((f) => f.endsWith('.ts'))
      .map((f) => [f, fs.readFileSync(path.join(SRC, f), 'utf8').split('\n').length - 1] as const)
      .filter(([, lines]) => lines > MAX_LINES)
      .map(([f, lines]) => `${f}: ${lines} lines`);
    expect(long).to.deep.equal([]);
  });
});
