import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { RedisKeys, sha256Hex } from '@mailpush/store';
import { startWebPushFake, type WebPushFake } from '../fakes/web-push-fake';
import { eventually, freePort, startDovecot, startRedis, type DovecotHandle, type RedisHandle } from '../harness';
import { ApiClient } from '../support/api-client';
import { makeAdminToken, makeMasterKey } from '../support/factories';
import { RoleProcess } from '../support/role-process';
import { openStream } from '../support/sse-client';

const DANA = { user: 'dana', password: 'dana-app-password' };

interface AccountJson {
  id: string;
  email: string;
  status: string;
  lastEventAt: string | null;
}

/** Link sessions as a 15-minute capability, on a real API process, Redis and Dovecot. */
describe('link-session routes', { timeout: 90_000 }, () => {
  let redis: RedisHandle;
  let dovecot: DovecotHandle;
  let webPush: WebPushFake;
  let raw: Redis;
  let api: RoleProcess;
  let anon: ApiClient;
  let admin: ApiClient;

  const accountBody = (email: string) => ({
    email,
    provider: 'imap',
    imap: { host: '127.0.0.1', port: dovecot.port, tls: true },
    auth: { type: 'password', username: DANA.user, password: DANA.password },
  });

  /** A user with an API key, and a link session of theirs as a client holding the link token. */
  async function userWithSession(): Promise<{ id: string; user: ApiClient; link: ApiClient; token: string }> {
    const created = await admin.post<{ id: string; apiKey: string }>('/v1/users', {});
    const user = anon.withToken(created.body.apiKey);
    const session = await user.post<{ url: string }>('/v1/link-sessions', {});
    assert.equal(session.status, 201);
    const token = session.body.url.split('#')[1]!;
    return { id: created.body.id, user, link: anon.withToken(token), token };
  }

  before(async () => {
    [redis, dovecot, webPush] = await Promise.all([startRedis(), startDovecot({ users: [DANA] }), startWebPushFake()]);
    raw = new Redis(redis.url);
    const port = await freePort();
    const adminToken = makeAdminToken();
    api = RoleProcess.start('api', {
      REDIS_URL: redis.url,
      PORT: String(port),
      HOST: '127.0.0.1',
      MAILPUSH_MASTER_KEY: makeMasterKey(),
      MAILPUSH_ADMIN_TOKEN: adminToken,
      MAILPUSH_ALLOW_PRIVATE_HOSTS: 'true',
      MAILPUSH_ALLOWED_IMAP_PORTS: '*',
    });
    anon = new ApiClient(`http://127.0.0.1:${port}`);
    admin = anon.withToken(adminToken);
    await eventually(async () => assert.equal((await anon.get('/healthz')).status, 200), { timeoutMs: 20_000 });
  });

  after(async () => {
    await api?.stop();
    await raw?.quit();
    await Promise.all([webPush?.close(), dovecot?.stop(), redis?.stop()]);
  });

  it('links several mailboxes with one session, lists them, and removes one as DELETE /v1/accounts/{id} does', async () => {
    const { user, link } = await userWithSession();
    const first = await link.post<AccountJson>('/v1/link-session/accounts', accountBody('dana@example.test'));
    assert.equal(first.status, 201, JSON.stringify(first.body));
    const second = await link.post<AccountJson>('/v1/link-session/accounts', accountBody('dana+2@example.test'));
    assert.equal(second.status, 201, 'the session outlives its first link');

    const listed = await link.get<{ accounts: AccountJson[] }>('/v1/link-session/accounts');
    assert.equal(listed.status, 200);
    assert.deepEqual(listed.body.accounts.map((a) => a.email).sort(), ['dana+2@example.test', 'dana@example.test']);
    for (const a of listed.body.accounts)
      assert.ok('status' in a && 'lastEventAt' in a, 'status and last new-mail time');
    const one = await link.get<AccountJson>(`/v1/link-session/accounts/${first.body.id}`);
    assert.equal(one.body.email, 'dana@example.test');

    assert.ok(await raw.exists(RedisKeys.cursor(first.body.id)), 'linking stored a cursor');
    assert.equal((await link.delete(`/v1/link-session/accounts/${first.body.id}`)).status, 204);
    assert.equal(await raw.exists(RedisKeys.account(first.body.id), RedisKeys.cursor(first.body.id)), 0);
    assert.equal(await raw.sismember(RedisKeys.allAccounts(), first.body.id), 0, 'no worker will watch it');
    assert.equal((await link.delete(`/v1/link-session/accounts/${first.body.id}`)).status, 404);
    const left = (await user.get<{ accounts: AccountJson[] }>('/v1/accounts')).body.accounts;
    assert.deepEqual(
      left.map((a) => a.id),
      [second.body.id],
    );
  });

  it("answers 404 for another user's account on every account route, and never lists it", async () => {
    const dana = await userWithSession();
    const other = await userWithSession();
    const theirs = await other.link.post<AccountJson>('/v1/link-session/accounts', accountBody('other@example.test'));
    assert.equal(theirs.status, 201);
    const id = theirs.body.id;
    assert.equal((await dana.link.get(`/v1/link-session/accounts/${id}`)).status, 404);
    const removal = await dana.link.delete<{ error: { code: string } }>(`/v1/link-session/accounts/${id}`);
    assert.equal(removal.status, 404);
    assert.equal(removal.body.error.code, 'not_found');
    assert.deepEqual((await dana.link.get<{ accounts: unknown[] }>('/v1/link-session/accounts')).body.accounts, []);
    assert.equal((await other.link.get(`/v1/link-session/accounts/${id}`)).status, 200, 'still there for its owner');
  });

  it('registers this browser as a Web Push device of the session user, and nothing but a browser', async () => {
    const { user, link } = await userWithSession();
    const subscription = webPush.subscribe();
    const created = await link.post<{ id: string; platform: string }>('/v1/link-session/devices', {
      platform: 'web',
      subscription,
      privacy: 'none',
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const again = await link.post<{ id: string }>('/v1/link-session/devices', { platform: 'web', subscription });
    assert.equal(again.status, 200, 'the same subscription is the same device');
    assert.equal(again.body.id, created.body.id);
    const devices = (await user.get<{ devices: { id: string; platform: string }[] }>('/v1/devices')).body.devices;
    assert.deepEqual(
      devices.map((d) => [d.id, d.platform]),
      [[created.body.id, 'web']],
    );
    const phone = await link.post<{ error: { code: string } }>('/v1/link-session/devices', {
      platform: 'ios',
      token: 'ab'.repeat(32),
    });
    assert.equal(phone.status, 400);
    assert.equal(phone.body.error.code, 'invalid_request');
  });

  it("streams the user's live events and closes the stream when the session expires", async () => {
    const { id, link, token } = await userWithSession();
    // The session's last two seconds: the stream must end with it rather than outlive the capability.
    await raw.pexpire(RedisKeys.linkSession(sha256Hex(token)), 2000);
    const stream = await openStream(`${link.baseUrl}/v1/link-session/events`, token);
    assert.equal(stream.status, 200);
    await stream.next('ready');
    const event = { type: 'new-mail', id: 'acc_x.1.7', accountId: 'acc_x', subject: 'Hello' };
    await raw.publish(RedisKeys.userEventsChannel(id), JSON.stringify(event));
    const received = await stream.next('new-mail');
    assert.equal(received.id, 'acc_x.1.7');
    assert.deepEqual(JSON.parse(received.data), event);
    const end = await stream.next('end');
    assert.deepEqual(JSON.parse(end.data), { code: 'link_expired' });
    await stream.ended();
    const after = await link.get<{ error: { code: string } }>('/v1/link-session/events');
    assert.equal(after.status, 401);
    assert.equal(after.body.error.code, 'link_expired');
  });

  it('ends early on DELETE /v1/link-session: every route then answers 401 link_expired', async () => {
    const { link, user } = await userWithSession();
    assert.equal((await link.delete('/v1/link-session')).status, 204);
    for (const [method, path] of [
      ['GET', '/v1/link-session'],
      ['GET', '/v1/link-session/accounts'],
      ['POST', '/v1/link-session/accounts'],
      ['POST', '/v1/link-session/devices'],
      ['GET', '/v1/link-session/events'],
    ] as const) {
      const res = await link.request<{ error: { code: string } }>(method, path, method === 'POST' ? {} : undefined);
      assert.equal(res.status, 401, `${method} ${path}`);
      assert.equal(res.body.error.code, 'link_expired', `${method} ${path}`);
    }
    assert.equal((await user.get('/v1/accounts')).status, 200, 'the API key is untouched');
    const withKey = await user.get('/v1/link-session/accounts');
    assert.equal(withKey.status, 401, 'an API key is not a link token');
  });

  it('refuses every one of these routes to a Reconnect link (a session scoped to one account): 403 link_scope', async () => {
    const { link, token } = await userWithSession();
    const account = await link.post<AccountJson>('/v1/link-session/accounts', accountBody('dana+scoped@example.test'));
    assert.equal(account.status, 201);
    // What the oauth branch's Reconnect link is in Redis: the session plus the one account it may re-arm.
    const hash = sha256Hex(token);
    await raw.set(RedisKeys.linkSessionScope(hash), account.body.id, 'PX', 60_000);
    for (const [method, path] of [
      ['GET', '/v1/link-session/accounts'],
      ['GET', `/v1/link-session/accounts/${account.body.id}`],
      ['DELETE', `/v1/link-session/accounts/${account.body.id}`],
      ['POST', '/v1/link-session/devices'],
      ['GET', '/v1/link-session/events'],
    ] as const) {
      const res = await link.request<{ error: { code: string } }>(method, path, method === 'POST' ? {} : undefined);
      assert.equal(res.status, 403, `${method} ${path}`);
      assert.equal(res.body.error.code, 'link_scope', `${method} ${path}`);
    }
    assert.ok(await raw.exists(RedisKeys.account(account.body.id)), 'the account is untouched');
  });
});
