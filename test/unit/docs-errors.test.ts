import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/config.ts';
import { catalogueCodes } from '../../src/http/openapi-parts.ts';

/** The rows of the error table in docs/api.md: `| status | `code` | when |`. */
function documentedErrors(): Map<string, number> {
  const text = readFileSync(path.join(PROJECT_ROOT, 'docs', 'api.md'), 'utf8');
  const section = text.slice(text.indexOf('\n## Errors\n'));
  const rows = new Map<string, number>();
  for (const m of section.matchAll(/^\| (\d{3}) \| `([a-z_]+)` \| (.+) \|$/gm)) {
    rows.set(m[2]!, Number(m[1]));
  }
  return rows;
}

describe('docs/api.md documents the error catalogue', () => {
  it('has a row with the right status and a meaning for every code of src/http/api-errors.ts', () => {
    const documented = documentedErrors();
    const missing: string[] = [];
    for (const [status, codes] of catalogueCodes()) {
      for (const code of codes) {
        if (documented.get(code) !== status) missing.push(`${status} ${code}`);
      }
    }
    expect(
      missing,
      'catalogue codes without a matching row in the Errors table of docs/api.md',
    ).to.deep.equal([]);
  });

  it('lists no code the catalogue does not have', () => {
    const known = new Set([...catalogueCodes().values()].flat());
    const stale = [...documentedErrors().keys()].filter((code) => !known.has(code));
    expect(stale, 'rows of docs/api.md for codes that no longer exist').to.deep.equal([]);
  });
});
