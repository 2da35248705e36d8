#!/usr/bin/env node
// Runs a compiled script (a benchmark) with the test CA trusted, like scripts/run-tests.mjs does for specs.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const caDir = resolve(root, '.test-runs/bench-ca');
const require = createRequire(import.meta.url);
const { testCa } = require(resolve(root, 'dist/test/harness/test-ca.js'));
const ca = testCa(caDir);
const [script, ...args] = process.argv.slice(2);
if (!script) {
  console.error('usage: with-test-ca.mjs <compiled script> [args…]');
  process.exit(2);
}
const result = spawnSync(process.execPath, [resolve(root, script), ...args], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, NODE_EXTRA_CA_CERTS: ca.bundlePath, MAILPUSH_TEST_CA_DIR: caDir },
});
process.exit(result.status ?? 1);
