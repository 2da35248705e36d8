import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '@mailpush/config';
import { createRedis, createRedisConnection, redisTlsOptions } from '@mailpush/store';
import {
  eventually,
  findExecutable,
  freePort,
  makeTemporaryDir,
  spawnGuarded,
  type GuardedProcess,
  type TemporaryDir,
} from '../harness';
import { makeAdminToken, makeMasterKey } from '../support/factories';
import { http, startApi, type RunningApi } from './security.fixture';

/** A CA of its own, not the test run's (which every test process already trusts): a private CA. */
function privateCa(dir: string): { caFile: string; certFile: string; keyFile: string } {
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  run(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key']);
  run([
    'req',
    '-x509',
    '-new',
    '-key',
    'ca.key',
    '-sha256',
    '-days',
    '2',
    '-subj',
    '/CN=private redis CA',
    '-out',
    'ca.crt',
  ]);
  run(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'redis.key']);
  run(['req', '-new', '-key', 'redis.key', '-subj', '/CN=127.0.0.1', '-out', 'redis.csr']);
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  run(
    ['x509', '-req', '-in', 'redis.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2'].concat([
      '-sha256',
      '-extfile',
      'ext.cnf',
      '-out',
      'redis.crt',
    ]),
  );
  return { caFile: join(dir, 'ca.crt'), certFile: join(dir, 'redis.crt'), keyFile: join(dir, 'redis.key') };
}

/** Issue 9: REDIS_URL with rediss:// and a private CA (REDIS_CA_FILE), on every connection a role makes. */
describe('Redis over TLS with a private CA', { timeout: 60_000 }, () => {
  let tmp: TemporaryDir;
  let server: GuardedProcess;
  let url: string;
  let caFile: string;
  let api: RunningApi | undefined;

  before(async () => {
    tmp = makeTemporaryDir('mailpush-redis-tls-');
    const files = privateCa(tmp.path);
    caFile = files.caFile;
    const port = await freePort();
    server = spawnGuarded(
      findExecutable('redis-server'),
      ['--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1', '--tls-cert-file', files.certFile]
        .concat(['--tls-key-file', files.keyFile, '--tls-ca-cert-file', files.caFile, '--tls-auth-clients', 'no'])
        .concat(['--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction', '--dir', tmp.path]),
      { outputFile: join(tmp.path, 'redis.log') },
    );
    url = `rediss://127.0.0.1:${port}`;
    const ca = readFileSync(caFile, 'utf8');
    await eventually(
      async () => {
        const probe = createRedis(url, {
          ...redisTlsOptions({ mode: 'standalone', url, ca }),
          lazyConnect: true,
          maxRetriesPerRequest: 0,
          retryStrategy: () => null,
        });
        try {
          await probe.connect();
          assert.equal(await probe.ping(), 'PONG');
        } finally {
          probe.disconnect();
        }
      },
      { timeoutMs: 10_000 },
    );
  });

  after(async () => {
    await api?.proc.stop();
    await server?.kill();
    tmp?.remove();
  });

  it('verifies the server against REDIS_CA_FILE, and refuses it without', async () => {
    const config = loadConfig({
      REDIS_URL: url,
      REDIS_CA_FILE: caFile,
      MAILPUSH_MASTER_KEY: makeMasterKey(),
      MAILPUSH_ADMIN_TOKEN: makeAdminToken(),
    });
    // The one connection factory every role, subscriber and BullMQ queue goes through.
    const trusted = createRedisConnection(config.redis, 'commands', { maxRetriesPerRequest: 0 });
    assert.equal(await trusted.ping(), 'PONG');
    trusted.disconnect();
    const untrusted = createRedis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    const errors: string[] = [];
    untrusted.on('error', (err: Error) => errors.push(err.message));
    await assert.rejects(untrusted.connect());
    assert.match(errors.join('\n'), /self-signed certificate|unable to verify|certificate/i);
    untrusted.disconnect();
  });

  it('runs the api (its queue and pub/sub connections included) against it', async () => {
    const adminToken = makeAdminToken();
    api = await startApi({
      REDIS_URL: url,
      REDIS_CA_FILE: caFile,
      HOST: '127.0.0.1',
      MAILPUSH_MASTER_KEY: makeMasterKey(),
      MAILPUSH_ADMIN_TOKEN: adminToken,
    });
    const overview = await http(api.url, 'GET', '/v1/admin/overview', { token: adminToken });
    assert.equal(overview.status, 200, overview.text);
    const user = await api.createUser();
    const events = await fetch(`${api.url}/v1/events`, { headers: { authorization: `Bearer ${user.apiKey}` } });
    assert.equal(events.status, 200);
    await events.body?.cancel();
  });

  it('refuses REDIS_CA_FILE with a plain redis:// URL', () => {
    assert.throws(
      () =>
        loadConfig({
          REDIS_URL: 'redis://127.0.0.1:6379',
          REDIS_CA_FILE: caFile,
          MAILPUSH_MASTER_KEY: makeMasterKey(),
          MAILPUSH_ADMIN_TOKEN: makeAdminToken(),
        }),
      /REDIS_CA_FILE: needs a rediss:\/\/ REDIS_URL/,
    );
  });

  it('refuses REDIS_CA_FILE with Sentinel or Cluster, saying so', () => {
    for (const target of [
      { REDIS_SENTINELS: '127.0.0.1:26379', REDIS_SENTINEL_NAME: 'mymaster' },
      { REDIS_CLUSTER_NODES: '127.0.0.1:7000' },
    ]) {
      assert.throws(
        () =>
          loadConfig({
            ...target,
            REDIS_CA_FILE: caFile,
            MAILPUSH_MASTER_KEY: makeMasterKey(),
            MAILPUSH_ADMIN_TOKEN: makeAdminToken(),
          }),
        /REDIS_CA_FILE: TLS to Redis is supported with a rediss:\/\/ REDIS_URL only/,
      );
    }
  });
});
