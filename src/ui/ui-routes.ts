/**
 * The admin page: `/settings/enterprise/audit-logs` (and `/`, which leads there). Plain HTML, CSS and ES modules
 * in `public/`; when the first router is built (at start-up) esbuild bundles the modules from
 * `public/admin-page.js` and the styles from `public/style.css` in memory into one minified file each (two
 * requests instead of one per file, served with a content hash and cached for good) — nothing generated is
 * committed or written to disk.
 * The event catalogue is inlined into the page, so the filters and the destructive-action badges need no extra
 * request before the first rows.
 * With NEXT_PUBLIC_AUDIT_LOGS_ENABLED off the page explains how to turn it on. The page reads data only through
 * the public API, with the key the admin pastes.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { buildSync } from 'esbuild';
import express, { Router } from 'express';
import { PROJECT_ROOT } from '../config.ts';
import type { AppContext } from '../context.ts';
import { InvariantViolation } from '../errors.ts';
import { EVENT_CATALOGUE, EVENT_TYPES, isDestructive } from '../events/catalogue.ts';

export const PAGE_PATH = '/settings/enterprise/audit-logs';
const HERE = path.join(PROJECT_ROOT, 'src', 'ui');

/** The catalogue as the page uses it; `<` is escaped so no value can close the inline <script>. */
function catalogueJson(): string {
  const resourceTypes = [...new Set(EVENT_CATALOGUE.map((e) => e.resource.split('.')[0]!))].sort();
  const eventTypes = [...EVENT_TYPES].sort().map((value) => ({ value, destructive: isDestructive(value) }));
  return JSON.stringify({ eventTypes, resourceTypes }).replace(/</g, '\\u003c');
}

/** One entry of `public/` bundled and minified, named by its content so that it can be cached for good. */
interface Bundle {
  name: string;
  text: string;
}

function bundle(entry: string): Bundle {
  const text = buildSync({
    entryPoints: [path.join(HERE, 'public', entry)],
    bundle: true,
    format: 'esm',
    minify: true,
    target: 'es2022',
    write: false,
  }).outputFiles[0]!.text;
  const ext = path.extname(entry);
  const hash = crypto.createHash('sha256').update(text).digest('hex').slice(0, 12);
  return { name: `${path.basename(entry, ext)}.${hash}${ext}`, text };
}

const SLOT = /<!-- slot: ([a-z]+) -->/g;

/**
 * A page of `pages/` in the frame both share (`pages/layout.html`: head, top bar, heading): each
 * `<!-- slot: name -->` of the frame takes what follows the same marker in the page's file; one the page leaves
 * out stays empty.
 */
function framedPage(file: string): string {
  const read = (name: string) => fs.readFileSync(path.join(HERE, 'pages', name), 'utf8');
  const [, ...parts] = read(file).split(SLOT);
  const slots = new Map<string, string>();
  for (let i = 0; i < parts.length; i += 2) slots.set(parts[i]!, parts[i + 1]!.trim());
  const layout = read('layout.html');
  const unknown = [...slots.keys()].filter((name) => !layout.includes(`<!-- slot: ${name} -->`));
  if (unknown.length)
    throw new InvariantViolation(`${file} fills slots layout.html lacks: ${unknown.join(', ')}`);
  return layout.replace(SLOT, (_, name: string) => slots.get(name) ?? '');
}

interface PageAssets {
  script: Bundle;
  style: Bundle;
  page: string;
  disabledPage: string;
}

let assets: PageAssets | undefined;

/** Bundled when the first router is built, not at import, so importing the module costs nothing; then kept. */
function pageAssets(): PageAssets {
  if (assets) return assets;
  const script = bundle('admin-page.js');
  const style = bundle('style.css');
  const page = framedPage('index.html')
    .replace('/*STYLE*/', style.name)
    .replace('/*CATALOGUE*/', () => catalogueJson())
    .replace('/*BUNDLE*/', script.name);
  const disabledPage = framedPage('disabled.html').replace('/*STYLE*/', style.name);
  assets = { script, style, page, disabledPage };
  return assets;
}

/** Same-origin only: the page runs no inline script and talks to nothing but this service. */
const PAGE_HEADERS = {
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; " +
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};

/** The page (its read endpoints are in query/page-routes.ts). */
export function uiRouter(ctx: AppContext): Router {
  const { script, style, page, disabledPage } = pageAssets();
  const router = Router();
  router.get('/', (_req, res) => res.redirect(302, PAGE_PATH));
  for (const [{ name, text }, type] of [
    [script, 'js'],
    [style, 'css'],
  ] as const) {
    router.get(`${PAGE_PATH}/assets/${name}`, (_req, res) => {
      res.set('Cache-Control', 'public, max-age=31536000, immutable').type(type).send(text);
    });
  }
  router.use(
    `${PAGE_PATH}/assets`,
    express.static(path.join(HERE, 'public'), { index: false, maxAge: '10m' }),
  );
  router.get(PAGE_PATH, (_req, res) => {
    res.set(PAGE_HEADERS).type('html');
    if (!ctx.cfg.pageEnabled) res.status(404).send(disabledPage);
    else res.send(page);
  });
  return router;
}
