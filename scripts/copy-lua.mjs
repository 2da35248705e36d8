#!/usr/bin/env node
// Copies the Redis scripts (apps/**/lua/*.lua, libs/**/lua/*.lua) into dist/ beside the compiled
// code that reads them at start (libs/store/redis-script.ts). tsc copies only what it compiles.
// Run by `npm run build`, `npm run compile` and scripts/run-tests.mjs.
import { cpSync, globSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
// Afresh each time: a script renamed or deleted in the sources does not linger in dist.
for (const stale of globSync(['dist/apps/**/*.lua', 'dist/libs/**/*.lua'], { cwd: root })) rmSync(resolve(root, stale));
const files = globSync(['apps/**/*.lua', 'libs/**/*.lua'], { cwd: root });
for (const file of files) {
  const target = resolve(root, 'dist', file);
  mkdirSync(dirname(target), { recursive: true });
  cpSync(resolve(root, file), target);
}
