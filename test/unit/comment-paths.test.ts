/**
 * Comments in src/ point only at files that exist: a path a comment names (`store/seal-store.ts`,
 * `docs/api.md`, `../lease.ts`) resolves from the repository, from src/, or from the commenting file's folder;
 * a bare file name (`ledger.ts`) names a file of src/ (names there are unique) or of the commenting file's folder.
 * A `.json` needs a folder (`express.json` is a function), and `dist/` holds what `npm run build` makes.
 */
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/config.ts';

const SRC = path.join(PROJECT_ROOT, 'src');
const FILE = /(?<![\w@/.:-])((?:\.{1,2}\/|[\w-]+\/)*[\w.-]+\.(?:ts|js|mjs|md|ya?ml|json|go|html|css|sh))\b/g;

function modules(): string[] {
  return (fs.readdirSync(SRC, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((e) => e.isFile() && /\.(ts|js)$/.test(e.name))
    .map((e) => path.join(e.parentPath, e.name));
}

/** The text of every comment of a module (block and line comments; strings are not comments). */
function comments(text: string): string[] {
  return [...text.matchAll(/\/\*[\s\S]*?\*\/|(?<![:'"`\\])\/\/[^\n]*/g)].map((m) => m[0]);
}

describe('paths in the comments of src/', () => {
  it('each names a file that exists', () => {
    const names = new Set(modules().map((f) => path.basename(f)));
    const missing: string[] = [];
    for (const file of modules()) {
      for (const comment of comments(fs.readFileSync(file, 'utf8'))) {
        for (const [, named] of comment.matchAll(FILE)) {
          if (named!.startsWith('dist/') || (named!.endsWith('.json') && !named!.includes('/'))) continue;
          const bases = [PROJECT_ROOT, SRC, path.dirname(file)];
          const found =
            bases.some((b) => fs.existsSync(path.resolve(b, named!))) ||
            (!named!.includes('/') && names.has(named!));
          if (!found) missing.push(`${path.relative(SRC, file)}: ${named}`);
        }
      }
    }
    expect(missing).to.deep.equal([]);
  });
});
