#!/usr/bin/env node
// Runs every compiled spec with Node's test runner. Makes the run's test CA first, so that every
// test process (and every child it starts) trusts it through NODE_EXTRA_CA_CERTS.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const caDir = resolve(root, '.test-runs/ca');
rmSync(caDir, { recursive: true, force: true });
const require = createRequire(import.meta.url);
const { testCa } = require(resolve(root, 'dist/test/harness/test-ca.js'));
const ca = testCa(caDir);

const patterns = process.argv.slice(2);
const args = [
  '--test',
  '--test-concurrency=2',
  '--test-timeout=300000',
  ...(patterns.length > 0 ? patterns : ['dist/**/*.spec.js']),
];
const result = spawnSync(process.execPath, args, {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, NODE_EXTRA_CA_CERTS: ca.bundlePath, MAILPUSH_TEST_CA_DIR: caDir },
});
process.exit(result.status ?? 1);
