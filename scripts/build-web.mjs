#!/usr/bin/env node
// Builds the web form into dist/apps/api/src/web/static, where the API serves it from: compiles the
// browser TypeScript (own tsconfigs: DOM library for the page, WebWorker for the service worker)
// and copies the static files.
// Run by `npm run build`, `npm test` and scripts/run-tests.mjs.
import { spawnSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const web = resolve(root, 'apps/api/src/web');
const projects = ['client', 'service-worker'].map((p) => resolve(web, p));
const out = resolve(root, 'dist/apps/api/src/web/static');
// From scratch each time (a second or two): nothing renamed or deleted in the sources lingers in dist.
rmSync(out, { recursive: true, force: true });
for (const p of ['client', 'service-worker']) rmSync(resolve(root, `dist/.tsbuildinfo-web-${p}`), { force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const built = spawnSync(process.execPath, [tsc, '-b', ...projects], { cwd: root, stdio: 'inherit' });
if (built.status !== 0) {
  console.error('build-web: the browser TypeScript did not compile (errors above)');
  process.exit(built.status ?? 1);
}
cpSync(resolve(web, 'static'), out, { recursive: true });
