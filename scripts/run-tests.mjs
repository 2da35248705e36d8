#!/usr/bin/env node
// Runs every compiled spec with Node's test runner. Makes the run's test CA first, so that every
// test process (and every child it starts) trusts it through NODE_EXTRA_CA_CERTS.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
// After a bare `tsc -p tsconfig.json`, dist/ still names shared libraries as @mailpush/<lib>:
// rewrite them (idempotent, a second or so), build the web form, which is served from dist/ too, and
// copy the Redis scripts the compiled code reads from dist/.
const aliases = spawnSync(
  process.execPath,
  [resolve(root, 'node_modules/tsc-alias/dist/bin/index.js'), '-p', resolve(root, 'tsconfig.json')],
  { cwd: root, stdio: 'inherit' },
);
if (aliases.status !== 0) process.exit(aliases.status ?? 1);
const web = spawnSync(process.execPath, [resolve(root, 'scripts/build-web.mjs')], { cwd: root, stdio: 'inherit' });
if (web.status !== 0) process.exit(web.status ?? 1);
const lua = spawnSync(process.execPath, [resolve(root, 'scripts/copy-lua.mjs')], { cwd: root, stdio: 'inherit' });
if (lua.status !== 0) process.exit(lua.status ?? 1);
// One CA per run, so that two runs on one machine never pull each other's trust away.
const caDir = resolve(root, `.test-runs/ca-${process.pid}`);
rmSync(caDir, { recursive: true, force: true });
const require = createRequire(import.meta.url);
const { testCa } = require(resolve(root, 'dist/test/harness/test-ca.js'));
const ca = testCa(caDir);

const patterns = process.argv.slice(2);
const args = [
  '--test',
  '--test-concurrency=2',
  '--test-timeout=300000',
  // A spec that leaves a handle open (a socket, a timer) must not hold CI hostage after its tests end.
  '--test-force-exit',
  ...(patterns.length > 0 ? patterns : ['dist/**/*.spec.js']),
];
// Hard ceiling for the whole run: far above its normal few minutes, far below CI's 90.
const RUN_TIMEOUT_MS = 30 * 60_000;
const result = spawnSync(process.execPath, args, {
  cwd: root,
  stdio: 'inherit',
  timeout: RUN_TIMEOUT_MS,
  killSignal: 'SIGKILL',
  env: { ...process.env, NODE_EXTRA_CA_CERTS: ca.bundlePath, MAILPUSH_TEST_CA_DIR: caDir },
});
rmSync(caDir, { recursive: true, force: true });
if (result.error) console.error(`test run aborted: ${result.error.message}`);
process.exit(result.status ?? 1);
