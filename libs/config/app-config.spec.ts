import assert from 'node:assert/strict';
import { createECDH, generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from './app-config';

const key = () => `v1:${randomBytes(32).toString('base64')}`;
const base = () => ({ MAILPUSH_MASTER_KEY: key(), MAILPUSH_ADMIN_TOKEN: 'a'.repeat(24) });

describe('loadConfig', () => {
  it('applies defaults', () => {
    const c = loadConfig(base());
    assert.deepEqual(c.redis, { mode: 'standalone', url: 'redis://127.0.0.1:6379' });
    assert.equal(c.http.port, 8080);
    assert.equal(c.allowPrivateHosts, false);
    assert.equal(c.imap.reIdleMs, 9 * 60_000);
    assert.equal(c.apns, undefined);
    assert.equal(c.fcm, undefined);
  });

  it('takes Redis Sentinel or Cluster in place of REDIS_URL, never two of them', () => {
    const sentinel = loadConfig({
      ...base(),
      REDIS_SENTINELS: '10.0.0.1:26379, sentinel-2:26380',
      REDIS_SENTINEL_NAME: 'mymaster',
      REDIS_SENTINEL_PASSWORD: 'sentinel-secret',
    });
    assert.deepEqual(sentinel.redis, {
      mode: 'sentinel',
      sentinels: [
        { host: '10.0.0.1', port: 26379 },
        { host: 'sentinel-2', port: 26380 },
      ],
      name: 'mymaster',
      sentinelPassword: 'sentinel-secret',
    });
    const cluster = loadConfig({ ...base(), REDIS_CLUSTER_NODES: 'redis-0:6379' });
    assert.deepEqual(cluster.redis, { mode: 'cluster', nodes: [{ host: 'redis-0', port: 6379 }] });
    assert.equal(cluster.queuePrefix, '{mailpush}', 'BullMQ keys of a queue on one hash slot');
    assert.equal(loadConfig({ ...base(), MAILPUSH_QUEUE_PREFIX: '{mp}' }).queuePrefix, '{mp}');
    for (const bad of [
      { REDIS_URL: 'redis://r:6379', REDIS_CLUSTER_NODES: 'r:6379' },
      { REDIS_SENTINELS: 'r:26379' },
      { REDIS_CLUSTER_NODES: 'no-port' },
      { MAILPUSH_LEASE_TTL_MS: '30000', MAILPUSH_LEASE_MARGIN_MS: '20000' },
    ]) {
      assert.throws(() => loadConfig({ ...base(), ...bad }), ConfigError, JSON.stringify(bad));
    }
    assert.equal(loadConfig(base()).leaseMarginMs, 6_000, 'a fifth of the TTL by default');
  });

  it('names every bad variable at once', () => {
    try {
      loadConfig({
        MAILPUSH_MASTER_KEY: 'short',
        PORT: 'eighty',
        MAILPUSH_ALLOW_PRIVATE_HOSTS: 'maybe',
        APNS_KEY_ID: 'ABC',
      });
      assert.fail('expected a ConfigError');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      const text = err.problems.join('\n');
      for (const name of [
        'MAILPUSH_MASTER_KEY',
        'MAILPUSH_ADMIN_TOKEN',
        'PORT',
        'MAILPUSH_ALLOW_PRIVATE_HOSTS',
        'APNS_KEY_ID',
      ]) {
        assert.match(text, new RegExp(name));
      }
      assert.ok(!text.includes('short'), 'secret values are not echoed');
    }
  });

  it('accepts a rotation list and keeps the newest first', () => {
    const c = loadConfig({ ...base(), MAILPUSH_MASTER_KEY: `${key().replace('v1', 'v2')},${key()}` });
    assert.deepEqual(
      c.masterKeys.map((k) => k.version),
      ['v2', 'v1'],
    );
  });

  it('configures FCM emulator mode from FCM_ENDPOINT and FCM_PROJECT_ID', () => {
    const c = loadConfig({ ...base(), FCM_ENDPOINT: 'https://127.0.0.1:9443', FCM_PROJECT_ID: 'demo-project' });
    assert.deepEqual(c.fcm, {
      projectId: 'demo-project',
      endpoint: { host: '127.0.0.1', port: 9443, origin: 'https://127.0.0.1:9443' },
    });
  });

  it('reads the three fields FCM needs from a service-account file, and names a bad one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mp-fcm-'));
    try {
      const file = (name: string, text: string) => {
        const path = join(dir, name);
        writeFileSync(path, text);
        return path;
      };
      const account = {
        project_id: 'demo',
        client_email: 'relay@demo.iam',
        private_key: 'PEM',
        type: 'service_account',
      };
      const c = loadConfig({ ...base(), FCM_SERVICE_ACCOUNT_FILE: file('good.json', JSON.stringify(account)) });
      assert.equal(c.fcm?.projectId, 'demo');
      assert.deepEqual(c.fcm?.serviceAccount, {
        project_id: 'demo',
        client_email: 'relay@demo.iam',
        private_key: 'PEM',
      });
      const problems = (text: string) => () =>
        loadConfig({ ...base(), FCM_SERVICE_ACCOUNT_FILE: file('bad.json', text) });
      assert.throws(problems('{"project_id'), /FCM_SERVICE_ACCOUNT_FILE: not valid JSON/);
      for (const text of ['null', '[]', JSON.stringify({ ...account, private_key: 7 })]) {
        assert.throws(problems(text), /FCM_SERVICE_ACCOUNT_FILE: needs project_id, client_email and private_key/, text);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a partial APNs configuration and an unreadable key file', () => {
    assert.throws(() => loadConfig({ ...base(), APNS_KEY_ID: 'ABC123DEFG' }), /APNS_KEY_FILE/);
    assert.throws(
      () =>
        loadConfig({
          ...base(),
          APNS_KEY_FILE: '/nonexistent.p8',
          APNS_KEY_ID: 'ABC123DEFG',
          APNS_TEAM_ID: 'TEAM123456',
          APNS_TOPIC: 'x',
        }),
      /cannot read/,
    );
  });

  it('chooses the APNs client: node-apn by default, http2 on request, nothing else', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mailpush-config-'));
    const keyFile = join(dir, 'key.p8');
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const apns = { APNS_KEY_FILE: keyFile, APNS_KEY_ID: 'ABC123DEFG', APNS_TEAM_ID: 'TEAM123456', APNS_TOPIC: 'x' };
    try {
      assert.equal(loadConfig({ ...base(), ...apns }).apns?.client, 'node-apn');
      assert.equal(loadConfig({ ...base(), ...apns, APNS_CLIENT: 'http2' }).apns?.client, 'http2');
      assert.throws(() => loadConfig({ ...base(), ...apns, APNS_CLIENT: 'node-apn2' }), /APNS_CLIENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('configures Web Push from a matching VAPID pair and the push policy knobs', () => {
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    const publicKey = ecdh.getPublicKey().toString('base64url');
    const raw = ecdh.getPrivateKey();
    const privateKey = Buffer.concat([Buffer.alloc(32 - raw.length), raw]).toString('base64url');
    const c = loadConfig({
      ...base(),
      VAPID_PUBLIC_KEY: publicKey,
      VAPID_PRIVATE_KEY: privateKey,
      VAPID_SUBJECT: 'mailto:ops@example.com',
      MAILPUSH_BURST_BUDGET: '3',
    });
    assert.deepEqual(c.webPush, { publicKey, privateKey, subject: 'mailto:ops@example.com' });
    assert.deepEqual(c.push, {
      ttlSeconds: 3600,
      maxInFlight: 200,
      deliveryAttempts: 8,
      burst: { budget: 3, windowMs: 60_000 },
    });
    const other = createECDH('prime256v1');
    other.generateKeys();
    assert.throws(
      () =>
        loadConfig({
          ...base(),
          VAPID_PUBLIC_KEY: other.getPublicKey().toString('base64url'),
          VAPID_PRIVATE_KEY: privateKey,
          VAPID_SUBJECT: 'mailto:a@b.c',
        }),
      /public half/,
    );
    assert.throws(() => loadConfig({ ...base(), VAPID_PUBLIC_KEY: publicKey }), /VAPID_PUBLIC_KEY/);
    assert.throws(() => loadConfig({ ...base(), APNS_JWT_REFRESH_MS: String(5 * 60_000) }), /APNS_JWT_REFRESH_MS/);
  });

  it('reads the abuse limits, quotas and IMAP policy, with safe defaults', () => {
    const d = loadConfig(base());
    assert.deepEqual(d.imapPolicy, { allowedPorts: [993, 143], allowPlaintext: false });
    assert.deepEqual(d.limits, {
      loginPerUser: { points: 10, durationS: 900 },
      loginPerAddress: { points: 20, durationS: 900 },
      loginPerHost: { points: 60, durationS: 60 },
      accountsPerUser: 20,
      devicesPerUser: 20,
    });
    assert.equal(d.http.trustProxy, false);
    const c = loadConfig({
      ...base(),
      MAILPUSH_ALLOWED_IMAP_PORTS: '*',
      MAILPUSH_ALLOW_PLAINTEXT_IMAP: 'true',
      MAILPUSH_LOGIN_LIMIT_PER_USER: '3/60',
      MAILPUSH_TRUST_PROXY: '1',
    });
    assert.equal(c.imapPolicy.allowedPorts, 'any');
    assert.equal(c.imapPolicy.allowPlaintext, true);
    assert.deepEqual(c.limits.loginPerUser, { points: 3, durationS: 60 });
    assert.equal(c.http.trustProxy, 1);
    assert.throws(
      () => loadConfig({ ...base(), MAILPUSH_ALLOWED_IMAP_PORTS: '993,70000', MAILPUSH_LOGIN_LIMIT_PER_HOST: '5' }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.problems.some((p) => p.startsWith('MAILPUSH_ALLOWED_IMAP_PORTS')) &&
        err.problems.some((p) => p.startsWith('MAILPUSH_LOGIN_LIMIT_PER_HOST')),
    );
  });
});
