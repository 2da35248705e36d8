import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { eventually, startRedis, type RedisHandle } from '../harness';
import { RoleProcess } from '../support/role-process';
import {
  accountBody,
  errorCode,
  http,
  scriptedServer,
  securityEnv,
  startApi,
  type HttpAnswer,
  type RunningApi,
  type ScriptedServer,
} from './security.fixture';

const WRONG = 'not-the-password';
const PER_USER = 5;
const PER_ADDRESS = 8;
const MAX_ACCOUNTS = 3;

function tally(answers: HttpAnswer[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const a of answers) counts[a.status] = (counts[a.status] ?? 0) + 1;
  return counts;
}

/**
 * Issue 9: the relay is not a password-guessing oracle nor a port scanner, and never sends a
 * password in clear. Logins are counted at the (scripted) server, not at the relay.
 */
describe('login limits, quotas and no downgrade', { timeout: 120_000 }, () => {
  let redis: RedisHandle;
  let raw: Redis;
  let api: RunningApi;
  let strictApi: RunningApi;
  let refusing: ScriptedServer;
  let accepting: ScriptedServer;
  let plain: ScriptedServer;
  let env: Record<string, string>;

  before(async () => {
    redis = await startRedis();
    raw = new Redis(redis.url);
    [refusing, accepting, plain] = await Promise.all([
      scriptedServer({ loginNo: '[AUTHENTICATIONFAILED] Invalid credentials' }),
      scriptedServer({}),
      scriptedServer({ tls: false, capabilities: 'IMAP4rev1 IDLE' }),
    ]);
    env = securityEnv(redis.url, {
      MAILPUSH_TRUST_PROXY: 'true',
      MAILPUSH_LOGIN_LIMIT_PER_USER: `${PER_USER}/600`,
      MAILPUSH_LOGIN_LIMIT_PER_ADDRESS: `${PER_ADDRESS}/600`,
      MAILPUSH_MAX_ACCOUNTS_PER_USER: String(MAX_ACCOUNTS),
    });
    // Same Redis and keys, production port rule and no proxy trusted.
    const strictEnv: Record<string, string> = { ...env, MAILPUSH_TRUST_PROXY: 'false' };
    delete strictEnv.MAILPUSH_ALLOWED_IMAP_PORTS;
    [api, strictApi] = await Promise.all([startApi(env), startApi(strictEnv)]);
  });

  after(async () => {
    await Promise.all([api?.proc.stop(), strictApi?.proc.stop()]);
    await Promise.all([refusing?.close(), accepting?.close(), plain?.close()]);
    await raw?.quit();
    await redis?.stop();
  });

  it('cuts a burst of wrong passwords off at the per-user and per-address limits, with 429 and Retry-After', async () => {
    const alice = await api.createUser();
    const bob = await api.createUser();
    const from = { 'x-forwarded-for': '203.0.113.7' };
    const burst = (apiKey: string) =>
      Promise.all(
        Array.from({ length: 25 }, () =>
          http(api.url, 'POST', '/v1/accounts', {
            token: apiKey,
            headers: from,
            body: accountBody(refusing.proxy, WRONG),
          }),
        ),
      );

    const first = await burst(alice.apiKey);
    assert.equal(refusing.logins(), PER_USER, 'exactly the per-user limit reached the server');
    assert.deepEqual(tally(first), { 422: PER_USER, 429: 25 - PER_USER });
    const limited = first.find((a) => a.status === 429);
    assert.ok(limited);
    assert.equal(errorCode(limited), 'too_many_attempts');
    assert.match(String((limited.json as { error: { message: string } }).error.message), /Too many sign-in attempts/);
    assert.ok(Number(limited.headers.get('retry-after')) > 0, 'Retry-After in seconds');

    // Another user from the same address: only what is left of the address's budget gets through.
    const second = await burst(bob.apiKey);
    assert.equal(refusing.logins(), PER_ADDRESS);
    assert.deepEqual(tally(second), { 422: PER_ADDRESS - PER_USER, 429: 25 - (PER_ADDRESS - PER_USER) });
    assert.equal(await raw.scard(`mp:user:${alice.id}:accounts`), 0, 'nothing stored');
  });

  it('keys the address on the socket unless a proxy is trusted: X-Forwarded-For from anyone changes nothing', async () => {
    const mallory = await strictApi.createUser();
    const before = refusing.logins();
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        http(strictApi.url, 'POST', '/v1/accounts', {
          token: mallory.apiKey,
          headers: { 'x-forwarded-for': `198.51.100.${i}` },
          body: { ...accountBody(refusing.proxy, WRONG), imap: { host: '127.0.0.1', port: 993, tls: true } },
        }),
      ),
    );
    // Port 993 on loopback is closed: these fail to connect, and still count as attempts.
    assert.equal(refusing.logins(), before);
    assert.ok(tally(answers)[429]! >= 12 - PER_USER, JSON.stringify(tally(answers)));
  });

  it('ends a link session after five refused logins', async () => {
    const carol = await api.createUser();
    const session = await http(api.url, 'POST', '/v1/link-sessions', { token: carol.apiKey });
    assert.equal(session.status, 201);
    const token = String((session.json as { url: string }).url.split('#')[1]);
    const codes: (string | undefined)[] = [];
    const before = refusing.logins();
    for (let i = 0; i < 6; i++) {
      const res = await http(api.url, 'POST', '/v1/link-session/accounts', {
        token,
        headers: { 'x-forwarded-for': '203.0.113.99' },
        body: accountBody(refusing.proxy, WRONG),
      });
      codes.push(errorCode(res));
    }
    assert.deepEqual(codes, [
      'auth_failed',
      'auth_failed',
      'auth_failed',
      'auth_failed',
      'auth_failed',
      'link_expired',
    ]);
    assert.equal(refusing.logins() - before, 5);
  });

  it('lets only one of two concurrent submits link through a one-time session', async () => {
    const dave = await api.createUser();
    const session = await http(api.url, 'POST', '/v1/link-sessions', { token: dave.apiKey });
    const token = String((session.json as { url: string }).url.split('#')[1]);
    const both = await Promise.all(
      [1, 2].map(() =>
        http(api.url, 'POST', '/v1/link-session/accounts', {
          token,
          headers: { 'x-forwarded-for': '203.0.113.50' },
          body: accountBody(accepting.proxy, 'right'),
        }),
      ),
    );
    assert.deepEqual(
      both.map((a) => a.status).sort(),
      [201, both.some((a) => a.status === 409) ? 409 : 401],
      both.map((a) => a.text).join('\n'),
    );
    assert.equal(await raw.scard(`mp:user:${dave.id}:accounts`), 1);
  });

  it('holds the mailbox and device quotas under concurrent creates, with 422 and a clear code', async () => {
    const erin = await api.createUser();
    const links = await Promise.all(
      // Within the per-user login limit, so the quota is what stops the extra ones.
      Array.from({ length: PER_USER }, (_, i) =>
        http(api.url, 'POST', '/v1/accounts', {
          token: erin.apiKey,
          headers: { 'x-forwarded-for': `192.0.2.${i}` },
          body: accountBody(accepting.proxy, 'right', true, `erin${i}@example.test`),
        }),
      ),
    );
    assert.equal(links.filter((a) => a.status === 201).length, MAX_ACCOUNTS, links.map((a) => a.text).join('\n'));
    assert.ok(
      links.filter((a) => a.status !== 201).every((a) => a.status === 422 && errorCode(a) === 'mailbox_limit_reached'),
    );
    assert.equal(await raw.scard(`mp:user:${erin.id}:accounts`), MAX_ACCOUNTS);

    const devices = await Promise.all(
      Array.from({ length: 25 }, (_, i) =>
        http(api.url, 'POST', '/v1/devices', {
          token: erin.apiKey,
          body: { platform: 'ios', token: `${i.toString(16).padStart(2, '0')}${'ab'.repeat(31)}` },
        }),
      ),
    );
    assert.equal(devices.filter((a) => a.status === 201).length, 20);
    const refused = devices.filter((a) => a.status !== 201);
    assert.equal(refused.length, 5);
    assert.ok(
      refused.every((a) => a.status === 422 && errorCode(a) === 'device_limit_reached'),
      refused[0]?.text,
    );
    assert.equal(await raw.scard(`mp:user:${erin.id}:devices`), 20);
  });

  it('refuses a port outside MAILPUSH_ALLOWED_IMAP_PORTS before any connection', async () => {
    const frank = await strictApi.createUser();
    const seen = accepting.proxy.connections().length;
    const res = await http(strictApi.url, 'POST', '/v1/accounts', {
      token: frank.apiKey,
      body: accountBody(accepting.proxy, 'right'),
    });
    assert.equal(res.status, 422);
    assert.equal(errorCode(res), 'port_not_allowed');
    assert.equal(accepting.proxy.connections().length, seen, 'no connection was made');
  });

  it('never sends a password to a plain-port server that offers no STARTTLS, and says why in plain words', async () => {
    const grace = await api.createUser();
    const marker = `pw-marker-${Date.now()}`;
    const res = await http(api.url, 'POST', '/v1/accounts', {
      token: grace.apiKey,
      headers: { 'x-forwarded-for': '192.0.2.200' },
      body: accountBody(plain.proxy, marker, false),
    });
    assert.equal(res.status, 422, res.text);
    assert.equal(errorCode(res), 'starttls_unavailable');
    assert.doesNotMatch(res.text, /E[A-Z]{4,}|ERR_/, 'no raw socket or TLS code');
    assert.ok(plain.proxy.connections().length > 0, 'the client did connect');
    assert.equal(plain.logins(), 0, 'no LOGIN or AUTHENTICATE');
    assert.ok(!plain.lines.some((l) => l.includes(marker)), 'the password never crossed the wire');
  });

  it('applies the same rule to the worker: a stored plain-port account is not logged into in clear', async () => {
    // The operator allowed cleartext when the account was linked, then turned it off.
    const lax = await startApi({ ...env, MAILPUSH_ALLOW_PLAINTEXT_IMAP: 'true' });
    let worker: RoleProcess | undefined;
    try {
      const heidi = await lax.createUser();
      const res = await http(lax.url, 'POST', '/v1/accounts', {
        token: heidi.apiKey,
        headers: { 'x-forwarded-for': '192.0.2.201' },
        body: accountBody(plain.proxy, 'right', false),
      });
      assert.equal(res.status, 201, res.text);
      const accountId = String((res.json as { id: string }).id);
      const loginsBefore = plain.logins();
      const connectionsBefore = plain.proxy.connections().length;
      worker = RoleProcess.start('worker', { ...env, MAILPUSH_LEASE_TTL_MS: '3000' });
      const account = await eventually(
        async () => {
          const a = await http(lax.url, 'GET', `/v1/accounts/${accountId}`, { token: heidi.apiKey });
          const body = a.json as { status: string; lastError: string | null };
          assert.equal(body.status, 'backoff', a.text);
          return body;
        },
        { timeoutMs: 20_000 },
      );
      assert.match(String(account.lastError), /STARTTLS/);
      assert.ok(plain.proxy.connections().length > connectionsBefore, 'the worker connected');
      assert.equal(plain.logins(), loginsBefore, 'but never logged in');
    } finally {
      await Promise.all([worker?.stop(), lax.proc.stop()]);
    }
  });

  it('marks every /v1 answer no-store, and sends HSTS only over HTTPS', async () => {
    const ivan = await api.createUser();
    for (const [method, path, token] of [
      ['POST', '/v1/link-sessions', ivan.apiKey],
      ['GET', '/v1/accounts', ivan.apiKey],
      ['GET', '/v1/nothing-here', ivan.apiKey],
      ['POST', '/v1/users', 'wrong'],
    ] as const) {
      const res = await http(api.url, method, path, { token });
      assert.equal(res.headers.get('cache-control'), 'no-store', `${method} ${path}`);
    }
    const created = await http(api.url, 'POST', `/v1/users/${ivan.id}/api-key`, { token: api.adminToken });
    assert.equal(created.headers.get('cache-control'), 'no-store');
    assert.equal((await http(api.url, 'GET', '/healthz')).headers.get('strict-transport-security'), null);
    const proxied = await http(api.url, 'GET', '/healthz', { headers: { 'x-forwarded-proto': 'https' } });
    assert.match(String(proxied.headers.get('strict-transport-security')), /max-age=\d+/);
    // Without a trusted proxy, anyone's X-Forwarded-Proto is ignored.
    const spoofed = await http(strictApi.url, 'GET', '/healthz', { headers: { 'x-forwarded-proto': 'https' } });
    assert.equal(spoofed.headers.get('strict-transport-security'), null);
  });
});
