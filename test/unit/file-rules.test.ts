/**
 * Files of src/ a reader can tell apart and read in one sitting (docs/code-layout.md): every file, whatever its
 * language (TypeScript, the page's JavaScript, CSS and HTML), is at most 300 lines, and no two share a name.
 * A name is the file's name without its extension: `table.js` and `table.css` are two files a reader must tell
 * apart, as are `app.ts` and `app.js`. The one pair that shares a name is a module and its type declarations
 * (`proof.js` with `proof.d.ts` beside it): they are one module in two files.
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

/** What a file is known by: its name without the extension (`.d.ts` counts as one). */
const stem = (file: string) => path.basename(file).replace(/(\.d\.ts|\.[^.]*)$/, '');

/** A `.d.ts` with its `.js` beside it declares that module: the two are one file to a reader. */
const declaresSibling = (file: string, all: string[]) =>
  file.endsWith('.d.ts') && all.includes(file.replace(/\.d\.ts$/, '.js'));

function lineCount(file: string): number {
  const text = fs.readFileSync(path.join(SRC, file), 'utf8');
  return text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
}

describe('files of src/', () => {
  it('finds every kind of file', () => {
    const exts = new Set(srcFiles().map((f) => path.extname(f)));
    expect([...exts]).to.include.members(['.ts', '.js', '.css', '.html']);
  });

  it('no two share a name (extension aside)', () => {
    const files = srcFiles();
    const byName = new Map<string, string[]>();
    for (const f of files.filter((f) => !declaresSibling(f, files))) {
      byName.set(stem(f), [...(byName.get(stem(f)) ?? []), f]);
    }
    expect([...byName.values()].filter((paths) => paths.length > 1)).to.deep.equal([]);
  });

  it(`no file is over ${MAX_LINES} lines`, () => {
    const long = srcFiles()
      .map((f) => [f, lineCount(f)] as const)
      .filter(([, lines]) => lines > MAX_LINES)
      .map(([f, lines]) => `${f}: ${lines} lines`);
    expect(long).to.deep.equal([]);
  });
});
