import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { eventually, freePort, startDovecot, startRedis, type DovecotHandle, type RedisHandle } from '../harness';
import { RedisKeys } from '@mailpush/store';
import { ApiClient } from '../support/api-client';
import { makeAdminToken, makeApnsToken, makeFcmToken, makeMasterKey } from '../support/factories';
import { RoleProcess } from '../support/role-process';

async function startApi(env: Record<string, string>): Promise<{ proc: RoleProcess; client: ApiClient }> {
  const port = await freePort();
  const proc = RoleProcess.start('api', { ...env, PORT: String(port), HOST: '127.0.0.1' });
  const client = new ApiClient(`http://127.0.0.1:${port}`);
  await eventually(async () => assert.equal((await client.get('/healthz')).status, 200), { timeoutMs: 45_000 });
  return { proc, client };
}

describe('REST API on real Redis and Dovecot', { timeout: 120_000 }, () => {
  let redis: RedisHandle;
  let dovecot: DovecotHandle;
  let raw: Redis;
  let api: RoleProcess;
  let strictApi: RoleProcess;
  let anon: ApiClient;
  let admin: ApiClient;
  let alice: ApiClient;
  let bob: ApiClient;
  let strictClient: ApiClient;
  const adminToken = makeAdminToken();
  const password = 'correct horse battery staple';

  const accountBody = (overrides: Record<string, unknown> = {}) => ({
    email: 'alice@example.test',
    provider: 'imap',
    imap: { host: '127.0.0.1', port: dovecot.port, tls: true },
    auth: { type: 'password', username: 'alice', password },
    ...overrides,
  });

  before(async () => {
    [redis, dovecot] = await Promise.all([startRedis(), startDovecot({ users: [{ user: 'alice', password }] })]);
    raw = new Redis(redis.url);
    const env = {
      REDIS_URL: redis.url,
      MAILPUSH_MASTER_KEY: makeMasterKey(),
      MAILPUSH_ADMIN_TOKEN: adminToken,
      MAILPUSH_ALLOWED_IMAP_PORTS: '*',
    };
    const [open, strict] = await Promise.all([
      startApi({ ...env, MAILPUSH_ALLOW_PRIVATE_HOSTS: 'true' }),
      startApi({ ...env, MAILPUSH_ALLOW_PRIVATE_HOSTS: 'false' }),
    ]);
    api = open.proc;
    anon = open.client;
    strictApi = strict.proc;
    admin = anon.withToken(adminToken);
    const a = await admin.post<{ apiKey: string }>('/v1/users', {});
    const b = await admin.post<{ apiKey: string }>('/v1/users', {});
    alice = anon.withToken(a.body.apiKey);
    bob = anon.withToken(b.body.apiKey);
    strictClient = strict.client.withToken(a.body.apiKey);
  });

  after(async () => {
    await Promise.all([api?.stop(), strictApi?.stop()]);
    await raw?.quit();
    await Promise.all([dovecot?.stop(), redis?.stop()]);
  });

  it('reports health and readiness', async () => {
    assert.deepEqual((await anon.get('/healthz')).body, { status: 'ok' });
    assert.deepEqual((await anon.get('/readyz')).body, { status: 'ready' });
  });

  it('lists the provider presets to anyone, with sign-in off when no OAuth client is configured', async () => {
    const res = await anon.get<{ providers: { id: string; imap: { host: string }; oauth: boolean }[] }>(
      '/v1/providers',
    );
    assert.equal(res.status, 200);
    assert.deepEqual(
      res.body.providers.map((p) => [p.id, p.oauth]),
      ['gmail', 'outlook', 'yahoo', 'icloud', 'fastmail', 'aol', 'other'].map((id) => [id, false]),
    );
    assert.equal(res.body.providers.find((p) => p.id === 'outlook')?.imap.host, 'outlook.office365.com');
  });

  it('refuses missing or wrong credentials with a JSON error', async () => {
    const none = await anon.post('/v1/users', {});
    assert.equal(none.status, 401);
    assert.deepEqual(none.body, { error: { code: 'unauthorized', message: 'Missing or invalid bearer token' } });
    assert.equal((await anon.withToken('not-the-admin-token-at-all').post('/v1/users', {})).status, 401);
    assert.equal((await alice.post('/v1/users', {})).status, 401, 'a user key is not an admin token');
    assert.equal((await anon.withToken('mpk_forged').get('/v1/devices')).status, 401);
  });

  it('answers malformed and oversized bodies with 4xx, never 500', async () => {
    const bad = await alice.request('POST', '/v1/devices', undefined, '{"platform":');
    assert.equal(bad.status, 400);
    assert.equal((bad.body as { error: { code: string } }).error.code, 'invalid_request');
    const huge = await alice.request(
      'POST',
      '/v1/devices',
      undefined,
      JSON.stringify({ platform: 'android', token: 'x'.repeat(100_000) }),
    );
    assert.equal(huge.status, 413);
    const unknown = await alice.get('/v1/nothing-here');
    assert.equal(unknown.status, 404);
  });

  it('validates devices and does not duplicate a re-registered token', async () => {
    const wrong = await alice.post<{ error: { code: string; message: string } }>('/v1/devices', {
      platform: 'ios',
      token: 'nothex',
    });
    assert.equal(wrong.status, 400);
    assert.match(wrong.body.error.message, /token/);
    assert.equal((await alice.post('/v1/devices', { platform: 'blackberry', token: 'x' })).status, 400);
    assert.equal(
      (await alice.post('/v1/devices', { platform: 'android', token: makeFcmToken(), extra: 1 })).status,
      400,
    );

    const token = makeApnsToken();
    const first = await alice.post<{ id: string }>('/v1/devices', { platform: 'ios', token, environment: 'sandbox' });
    assert.equal(first.status, 201);
    const again = await alice.post<{ id: string }>('/v1/devices', {
      platform: 'ios',
      token: token.toUpperCase(),
      environment: 'sandbox',
    });
    assert.equal(again.status, 200);
    assert.equal(again.body.id, first.body.id);
    const list = await alice.get<{ devices: { id: string; tokenSuffix: string }[] }>('/v1/devices');
    assert.equal(list.body.devices.filter((d) => d.id === first.body.id).length, 1);
    assert.ok(!JSON.stringify(list.body).includes(token), 'the full token is never echoed');

    assert.equal((await bob.delete(`/v1/devices/${first.body.id}`)).status, 404, 'another user cannot delete it');
    assert.equal((await alice.delete(`/v1/devices/${first.body.id}`)).status, 204);
    assert.equal((await alice.get<{ devices: unknown[] }>('/v1/devices')).body.devices.length, 0);
  });

  it('refuses a wrong password with 422 auth_failed and stores nothing', async () => {
    const before = await raw.keys('mp:account:*');
    const res = await alice.post<{ error: { code: string; message: string } }>(
      '/v1/accounts',
      accountBody({ auth: { type: 'password', username: 'alice', password: 'wrong' } }),
    );
    assert.equal(res.status, 422);
    assert.equal(res.body.error.code, 'auth_failed');
    assert.ok(!res.body.error.message.includes('wrong'));
    assert.deepEqual(await raw.keys('mp:account:*'), before);
  });

  it('reports connection and TLS failures with distinct codes', async () => {
    const closedPort = await freePort();
    const refused = await alice.post<{ error: { code: string } }>(
      '/v1/accounts',
      accountBody({ imap: { host: '127.0.0.1', port: closedPort, tls: true } }),
    );
    assert.equal(refused.status, 422);
    assert.equal(refused.body.error.code, 'connect_failed');
    const tls = await alice.post<{ error: { code: string } }>(
      '/v1/accounts',
      accountBody({ imap: { host: '127.0.0.1', port: dovecot.plainPort, tls: true } }),
    );
    assert.equal(tls.status, 422);
    assert.equal(tls.body.error.code, 'tls_failed');
  });

  it('refuses private hosts unless the operator allows them', async () => {
    const res = await strictClient.post<{ error: { code: string } }>('/v1/accounts', accountBody());
    assert.equal(res.status, 422);
    assert.equal(res.body.error.code, 'host_not_allowed');
  });

  it('links an account with its password encrypted at rest, and erases it on delete', async () => {
    const res = await alice.post<{ id: string; status: string }>('/v1/accounts', accountBody());
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.status, 'connecting');
    const id = res.body.id;

    const stored = await raw.hgetall(RedisKeys.account(id));
    assert.ok(stored.credentials?.startsWith('v1.'));
    const everything = JSON.stringify(
      await Promise.all(
        (await raw.keys('mp:*')).map(async (k) => [
          k,
          (await raw.type(k)) === 'hash' ? await raw.hgetall(k) : await raw.type(k),
        ]),
      ),
    );
    assert.ok(!everything.includes(password), 'the password is stored only encrypted');
    assert.ok(await raw.exists(RedisKeys.cursor(id)), 'the starting cursor is recorded at link time');

    const got = await alice.get<{ id: string; email: string; status: string }>(`/v1/accounts/${id}`);
    assert.equal(got.status, 200);
    assert.equal(got.body.email, 'alice@example.test');
    assert.ok(!JSON.stringify(got.body).includes(password));
    assert.equal((await bob.get(`/v1/accounts/${id}`)).status, 404);
    assert.equal((await alice.get<{ accounts: unknown[] }>('/v1/accounts')).body.accounts.length, 1);

    assert.equal((await bob.delete(`/v1/accounts/${id}`)).status, 404);
    assert.equal((await alice.delete(`/v1/accounts/${id}`)).status, 204);
    assert.equal(await raw.exists(RedisKeys.account(id), RedisKeys.cursor(id)), 0);
    assert.equal(await raw.sismember(RedisKeys.allAccounts(), id), 0);
    assert.equal((await alice.get(`/v1/accounts/${id}`)).status, 404);
  });

  it('validates account bodies field by field', async () => {
    const res = await alice.post<{ error: { code: string; details: { path: string }[] } }>('/v1/accounts', {
      email: 'not-an-email',
      imap: { host: 'bad host!', port: 70000 },
      auth: { type: 'password', username: '', password: '' },
    });
    assert.equal(res.status, 400);
    const paths = res.body.error.details.map((d) => d.path).sort();
    assert.deepEqual(paths, ['auth.password', 'auth.username', 'email', 'imap.host', 'imap.port']);
  });
});
