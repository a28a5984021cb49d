/**
 * The dependency direction of src/: HTTP → domain → store, each layer importing only downward. madge (npm run
 * lint) proves there is no import circle; this proves the direction, from the import lines themselves.
 */
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/config.ts';

const SRC = path.join(PROJECT_ROOT, 'src');

/** Every module of src/ (relative to it) with the project modules it imports (relative to src/ too). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.ts')) {
        const text = fs.readFileSync(full, 'utf8');
        const targets = [...text.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s+'(\.[^']+)'/gms)].map((m) =>
          path.relative(SRC, path.resolve(path.dirname(full), m[1]!)),
        );
        graph.set(path.relative(SRC, full), targets);
      }
    }
  };
  walk(SRC);
  return graph;
}

/** The edges `from → to` of the graph for which `bad` holds. */
function violations(bad: (from: string, to: string) => boolean): string[] {
  const out: string[] = [];
  for (const [from, targets] of importGraph()) {
    for (const to of targets) if (bad(from, to)) out.push(`${from} → ${to}`);
  }
  return out;
}

const isStore = (m: string) => m.startsWith('store/');
const isHttp = (m: string) => m.startsWith('http/');
/** Modules that answer requests: the routers, and the composition root that mounts them. */
const isRouter = (m: string) => /(^|\/|-)routes\.ts$/.test(m) || ['app.ts', 'server.ts'].includes(m);
/** Modules every layer may use: they import nothing above themselves. */
const SHARED = ['errors.ts', 'config.ts', 'events/schema.ts', 'startup-error.ts', 'days.ts'];

describe('layers of src/', () => {
  it('finds the modules and their imports', () => {
    const graph = importGraph();
    expect(graph.get('app.ts')).to.include('http/api-errors.ts');
    expect(graph.get('store/events.ts')).to.include('store/client.ts');
  });

  it('the store imports only the store and the shared modules', () => {
    expect(violations((from, to) => isStore(from) && !isStore(to) && !SHARED.includes(to))).to.deep.equal([]);
  });

  it('src/http never imports src/store: the domain stands between them', () => {
    expect(violations((from, to) => isHttp(from) && isStore(to))).to.deep.equal([]);
  });

  it('only the routers, the composition root and src/http/ itself import src/http/', () => {
    const allowed = (m: string) => isHttp(m) || isRouter(m);
    expect(violations((from, to) => isHttp(to) && !allowed(from))).to.deep.equal([]);
  });

  it('no module imports a router but the composition root and the OpenAPI document of the routes', () => {
    const allowed = (m: string) =>
      ['app.ts', 'server.ts'].includes(m) || /^http\/openapi(-[a-z-]+)?\.ts$/.test(m);
    expect(violations((from, to) => isRouter(to) && !allowed(from))).to.deep.equal([]);
  });

  it('no two folders of the domain import each other (each pair runs one way)', () => {
    const folder = (m: string) => (m.includes('/') ? m.split('/')[0]! : undefined);
    const edges = new Set<string>();
    for (const [from, targets] of importGraph()) {
      if (isRouter(from) || isHttp(from)) continue;
      for (const to of targets) {
        const [a, b] = [folder(from), folder(to)];
        if (a && b && a !== b && !isHttp(to)) edges.add(`${a} ⇄ ${b}`);
      }
    }
    const both = [...edges].filter((e) => {
      const [a, b] = e.split(' ⇄ ') as [string, string];
      return a < b && edges.has(`${b} ⇄ ${a}`);
    });
    expect(both).to.deep.equal([]);
  });

  it('only config.ts reads the environment: nothing else imports its variable parsers', () => {
    expect(violations((from, to) => to === 'env-values.ts' && from !== 'config.ts')).to.deep.equal([]);
  });

  it('nothing in src/ imports the tools or the tests', () => {
    expect(violations((_from, to) => to.startsWith('..'))).to.deep.equal([]);
  });
});
