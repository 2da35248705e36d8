#!/usr/bin/env node
// The fast tier (npm run test:unit): every spec that starts no Redis, Dovecot or browser, run from
// the TypeScript sources through tsx (which honours tsconfig `paths`), so no compile comes first.
// With arguments, runs just those spec files: `npm run test:unit -- libs/imap/reconnect-policy.spec.ts`.
// Type errors are not reported here: `npm test` (tsc, lint, every spec) remains the gate.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { glob } from 'node:fs/promises';
import { relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');

// Specs under test/ that talk only to in-process fakes, scripted servers on loopback or a local tool
// (promtool). Every spec beside the code (apps/, libs/) belongs to this tier too. Integration specs
// stay out, and so do three slow ones that start no server (they run in npm test, or here by name):
// test/deploy/manifests.spec.ts (kubectl kustomize and a type check of every object, ~7 s),
// test/ownership/scale-simulation.spec.ts (~40 s) and test/bench/bench-smoke.spec.ts.
const UNIT_SPECS_UNDER_TEST = [
  'test/deploy/alert-rules.spec.ts',
  'test/deploy/promql.spec.ts',
  'test/docs/docs.spec.ts',
  'test/push/apns.spec.ts',
  'test/push/fcm.spec.ts',
  'test/push/web-push.spec.ts',
  'test/watcher/protocol.spec.ts',
];

// What makes a spec an integration spec: it starts a real server or a browser, directly or through a
// fixture that does.
const HEAVY = [
  'startRedis',
  'startDovecot',
  'startCluster',
  'startSentinel',
  'pipeline.fixture',
  'dispatch.fixture',
  'security.fixture',
  'role-process',
  'slot-fleet',
  'chromium',
];

async function defaultSpecs() {
  const besideTheCode = [];
  for await (const file of glob(['apps/**/*.spec.ts', 'libs/**/*.spec.ts'], { cwd: root })) besideTheCode.push(file);
  return [...besideTheCode.sort(), ...UNIT_SPECS_UNDER_TEST];
}

const requested = process.argv.slice(2);
const specs = requested.length > 0 ? requested.map((f) => relative(root, resolve(f))) : await defaultSpecs();

const heavy = specs.filter((file) => {
  const source = readFileSync(resolve(root, file), 'utf8');
  return HEAVY.some((marker) => source.includes(marker));
});
if (heavy.length > 0 && requested.length === 0) {
  console.error(`test:unit: these specs start a server or a browser and belong under npm test: ${heavy.join(', ')}`);
  process.exit(1);
}

// The push fakes speak TLS: a CA of this run's own, trusted through NODE_EXTRA_CA_CERTS (as run-tests.mjs).
const caDir = resolve(root, `.test-runs/ca-unit-${process.pid}`);
rmSync(caDir, { recursive: true, force: true });
const { testCa } = await import(resolve(root, 'test/harness/test-ca.ts'));
const ca = testCa(caDir);

const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-isolation=none', '--test-timeout=60000', '--test-force-exit', ...specs],
  {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, NODE_EXTRA_CA_CERTS: ca.bundlePath, MAILPUSH_TEST_CA_DIR: caDir },
  },
);
rmSync(caDir, { recursive: true, force: true });
if (result.error) console.error(`test:unit aborted: ${result.error.message}`);
process.exit(result.status ?? 1);
