#!/usr/bin/env node
// Builds the web form into dist/apps/api/src/web/static, where the API serves it from: compiles the
// browser TypeScript (its own tsconfig: DOM library, no Node types) and copies the static files.
// Run by `npm run build`, `npm test` and scripts/run-tests.mjs; incremental, so a no-op run is quick.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const web = resolve(root, 'apps/api/src/web');
const projects = ['client', 'service-worker'].map((p) => resolve(web, p)).filter((p) => existsSync(p));
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const built = spawnSync(process.execPath, [tsc, '-b', ...projects], { cwd: root, stdio: 'inherit' });
if (built.status !== 0) {
  console.error('build-web: the browser TypeScript did not compile (errors above)');
  process.exit(built.status ?? 1);
}
cpSync(resolve(web, 'static'), resolve(root, 'dist/apps/api/src/web/static'), { recursive: true });
