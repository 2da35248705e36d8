import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { RedisKeys } from '@mailpush/store';
import { eventually, freePort, startOAuthServer, type OAuthServer } from '../harness';
import type { ApiClient } from '../support/api-client';
import { makeApnsToken, makeFcmToken, makeMessage } from '../support/factories';
import { createUser, startPipeline, type Pipeline } from '../support/pipeline.fixture';
import { dumpRedis, keysHolding } from '../support/redis-dump';

const EMAIL = 'carol@example.test';
const CLIENT = { id: 'mailpush-test-client', secret: randomBytes(24).toString('base64url') };
const SCOPES = ['openid', 'email', 'https://mail.google.com/'];

interface Account {
  id: string;
  email: string;
  status: string;
  auth: string;
  oauthProvider: string | null;
  lastError: string | null;
}

type Hop = { status: number; location?: string; body: string };

async function get(url: string): Promise<Hop> {
  const res = await fetch(url, { redirect: 'manual' });
  return { status: res.status, location: res.headers.get('location') ?? undefined, body: await res.text() };
}

/**
 * OAuth2 linking at the HTTP level, on real parts: the local authorization server (HTTPS, test CA),
 * Dovecot checking every XOAUTH2/OAUTHBEARER token by introspection against it, real Redis, the
 * three roles as processes, and the strict APNs/FCM fakes. The Gmail preset is pointed at the local
 * servers through MAILPUSH_PROVIDERS_FILE.
 */
describe('OAuth2 sign-in, silent refresh and the reconnect loop', { timeout: 300_000 }, () => {
  let oauth: OAuthServer;
  let p: Pipeline;
  let api: string;
  let raw: Redis;
  let user: ApiClient;
  let accountId: string;
  let usedCallback: string;
  const iosToken = makeApnsToken();
  const androidToken = makeFcmToken();

  const apnsFor = () => p.apns.delivered().filter((r) => r.token === iosToken);
  const fcmFor = () => p.fcm.delivered().filter((r) => r.token === androidToken);
  const apnsBodies = () =>
    apnsFor().map((r) => (r.payload as { aps: { alert: { title?: string; body: string } } }).aps.alert.body);
  const fcmData = () => fcmFor().map((r) => (r.message as { data: Record<string, string> }).data);

  async function linkToken(): Promise<string> {
    const res = await user.post<{ url: string }>('/v1/link-sessions', {});
    assert.equal(res.status, 201);
    return res.body.url.split('#')[1]!;
  }

  /** start → the provider's authorize (approves or denies) → the callback URL it redirects to. */
  async function consent(startUrl: string): Promise<string> {
    const start = await get(startUrl);
    assert.equal(start.status, 302, start.body);
    const toProvider = start.location ?? '';
    assert.ok(toProvider.startsWith(`${oauth.issuer}/authorize?`), toProvider);
    const authorize = await get(toProvider);
    assert.equal(authorize.status, 302, authorize.body);
    const toCallback = authorize.location ?? '';
    assert.ok(toCallback.startsWith(`${api}/v1/oauth/callback?`), toCallback);
    return toCallback;
  }

  async function accountKeys(): Promise<string[]> {
    const keys = await raw.keys('mp:account:*');
    return keys.sort();
  }

  async function account(id: string): Promise<Account> {
    const res = await user.get<Account>(`/v1/accounts/${id}`);
    assert.equal(res.status, 200);
    return res.body;
  }

  before(async () => {
    const port = await freePort();
    api = `http://127.0.0.1:${port}`;
    oauth = await startOAuthServer({
      clientId: CLIENT.id,
      clientSecret: CLIENT.secret,
      redirectUri: `${api}/v1/oauth/callback`,
      userEmail: EMAIL,
      requiredScopes: SCOPES,
      accessTokenTtlS: 30,
    });
    p = await startPipeline({
      users: [{ user: EMAIL, password: randomBytes(18).toString('base64url') }],
      port,
      dovecot: { oauth2: { introspectionUrl: oauth.introspectionUrl } },
      env: { PUBLIC_URL: api, MAILPUSH_OAUTH_REFRESH_MARGIN_MS: '10000' },
      envFor: (dovecot) => {
        const file = join(mkdtempSync(join(tmpdir(), 'mailpush-oauth-')), 'providers.json');
        writeFileSync(
          file,
          JSON.stringify({
            providers: [
              {
                id: 'gmail',
                name: 'Gmail (local)',
                imap: { host: dovecot.host, port: dovecot.port, tls: true },
                oauth: {
                  authorizeUrl: `${oauth.issuer}/authorize`,
                  tokenUrl: `${oauth.issuer}/token`,
                  revokeUrl: `${oauth.issuer}/revoke`,
                  userinfoUrl: `${oauth.issuer}/userinfo`,
                  clientId: CLIENT.id,
                  clientSecret: CLIENT.secret,
                  scopes: SCOPES,
                  extraParams: { access_type: 'offline', prompt: 'consent' },
                  issuer: oauth.issuer,
                },
              },
            ],
          }),
        );
        return { MAILPUSH_PROVIDERS_FILE: file };
      },
    });
    raw = new Redis(p.redis.url);
    user = await createUser(p.admin);
    assert.equal(
      (await user.post('/v1/devices', { platform: 'ios', token: iosToken, environment: 'sandbox' })).status,
      201,
    );
    assert.equal((await user.post('/v1/devices', { platform: 'android', token: androidToken })).status, 201);
  });

  after(async () => {
    await raw?.quit();
    await p?.stop();
    await oauth?.close();
  });

  it('lists the pointed preset with sign-in on', async () => {
    const res = await p.admin.get<{ providers: { id: string; oauth: boolean; imap: { port: number } }[] }>(
      '/v1/providers',
    );
    const gmail = res.body.providers.find((x) => x.id === 'gmail');
    assert.deepEqual([gmail?.oauth, gmail?.imap.port], [true, p.dovecot.port]);
  });

  it('links a mailbox by consent, logs in with the access token, and pushes new mail once', async () => {
    const callback = await consent(`${api}/v1/oauth/gmail/start?link=${await linkToken()}`);
    const authorize = oauth.authorizeRequests.at(-1)!;
    assert.equal(authorize.get('code_challenge_method'), 'S256');
    assert.equal(authorize.get('access_type'), 'offline');
    assert.equal(authorize.get('scope'), SCOPES.join(' '));
    const done = await get(callback);
    assert.equal(done.status, 302, done.body);
    const m = /^.*\/link\?linked=(acc_[0-9a-f]{20})$/.exec(done.location ?? '');
    assert.ok(m, done.location);
    accountId = m[1]!;
    usedCallback = callback;
    await eventually(async () => assert.equal((await account(accountId)).status, 'idle'), { timeoutMs: 20_000 });
    const linked = await account(accountId);
    assert.deepEqual([linked.email, linked.auth, linked.oauthProvider], [EMAIL, 'oauth2', 'gmail']);
    assert.deepEqual(oauth.issued, { authorization_code: 1, refresh_token: 0 });
    // The grant is sealed: nothing in the account hash is a token in clear.
    const record = await raw.hgetall(RedisKeys.account(accountId));
    assert.equal(record.email, EMAIL, 'the account record is where the key module says');
    const stored = JSON.stringify(record);
    assert.ok(!/\b(rt|at)_[A-Za-z0-9_-]{20,}/.test(stored), 'a token is stored in clear');

    await p.dovecot.deliver(EMAIL, makeMessage({ from: 'Ada <ada@example.com>', subject: 'Signed in by OAuth' }));
    await eventually(() => {
      assert.equal(apnsFor().length, 1);
      assert.equal(fcmFor().length, 1);
    });
    await p.quiescent();
    assert.deepEqual(apnsBodies(), ['Signed in by OAuth']);
    assert.equal(fcmFor().length, 1);
  });

  it('refreshes 30-second access tokens (with rotation) and misses or repeats nothing across refreshes', async () => {
    for (let round = 1; round <= 3; round++) {
      await eventually(() => assert.ok(oauth.issued.refresh_token >= round), { timeoutMs: 40_000, intervalMs: 200 });
      await p.dovecot.deliver(EMAIL, makeMessage({ subject: `After refresh ${round}` }));
      await eventually(() => assert.equal(apnsFor().length, 1 + round), { timeoutMs: 15_000 });
    }
    // The first access token has long expired: a reconnect now must log in with a refreshed one.
    await p.dovecot.kill();
    p.dovecot.deliverToMaildir(EMAIL, makeMessage({ subject: 'While the server was down' }));
    await p.dovecot.restart();
    await eventually(() => assert.equal(apnsFor().length, 5), { timeoutMs: 40_000 });
    await p.quiescent();
    assert.deepEqual(apnsBodies(), [
      'Signed in by OAuth',
      'After refresh 1',
      'After refresh 2',
      'After refresh 3',
      'While the server was down',
    ]);
    assert.equal(fcmFor().length, 5);
    assert.ok(
      oauth.tokenRequests.every((r) => r.outcome === 'ok'),
      `no refresh was refused (a reused rotated token would be): ${JSON.stringify(oauth.tokenRequests)}`,
    );
    assert.equal((await account(accountId)).status, 'idle');
  });

  it('turns a revoked grant into auth_error / reauth_required and one Reconnect per device', async () => {
    oauth.revokeAll();
    await eventually(
      async () => {
        const a = await account(accountId);
        assert.equal(a.status, 'auth_error');
        assert.match(a.lastError ?? '', /sign in again/);
      },
      { timeoutMs: 40_000 },
    );
    await eventually(() => {
      assert.equal(apnsFor().length, 6);
      assert.equal(fcmFor().length, 6);
    });
    await p.quiescent();
    assert.equal(apnsFor().length, 6, 'exactly one Reconnect on the iPhone');
    assert.equal(fcmFor().length, 6, 'exactly one Reconnect on the Android phone');
    const ios = apnsFor()[5]!;
    const payload = ios.payload as { type: string; accountId: string; url: string; aps: { alert: { title: string } } };
    assert.deepEqual(
      [payload.type, payload.accountId, payload.aps.alert.title],
      ['reauth', accountId, `Reconnect ${EMAIL}`],
    );
    const data = fcmData()[5]!;
    assert.deepEqual([data.type, data.accountId], ['reauth', accountId]);
    assert.ok(data.url?.startsWith(`${api}/v1/oauth/gmail/start?account=${accountId}&link=mpl_`), data.url);
  });

  it('re-arms the same account from the Reconnect link: mail that arrived meanwhile is pushed once', async () => {
    await p.dovecot.deliver(EMAIL, makeMessage({ subject: 'While disconnected' }));
    const url = (apnsFor()[5]!.payload as { url: string }).url;
    const done = await get(await consent(url));
    assert.equal(done.status, 302, done.body);
    assert.ok(done.location?.endsWith(`/link?linked=${accountId}`), done.location);
    await eventually(() => assert.equal(apnsFor().length, 7), { timeoutMs: 30_000 });
    await p.quiescent();
    assert.equal(apnsBodies()[6], 'While disconnected');
    assert.equal(fcmFor().length, 7);
    assert.equal((await account(accountId)).status, 'idle');
    assert.equal((await user.get<{ accounts: unknown[] }>('/v1/accounts')).body.accounts.length, 1, 'the same account');
    // The link was consumed by the re-arm.
    const again = await get(url);
    assert.equal(again.status, 401);
    assert.match(again.body, /This link has expired/);
  });

  it('answers denied consent, a replayed or forged callback and an IMAP refusal with their own page, storing nothing', async () => {
    const before = await accountKeys();
    const pages: [string, Hop][] = [];

    oauth.decision = 'deny';
    pages.push(['access_denied', await get(await consent(`${api}/v1/oauth/gmail/start?link=${await linkToken()}`))]);
    oauth.decision = 'approve';

    pages.push(['state_invalid', await get(usedCallback)]);

    const forged = new URL(await consent(`${api}/v1/oauth/gmail/start?link=${await linkToken()}`));
    forged.searchParams.set('code', 'code_not-issued-by-the-server');
    pages.push(['exchange_failed', await get(forged.toString())]);

    oauth.userEmail = 'stranger@example.test';
    pages.push(['imap_refused', await get(await consent(`${api}/v1/oauth/gmail/start?link=${await linkToken()}`))]);
    oauth.userEmail = EMAIL;

    pages.push(['link_expired', await get(`${api}/v1/oauth/gmail/start?link=mpl_${'x'.repeat(43)}`)]);

    for (const [outcome, page] of pages) {
      assert.ok(page.status >= 400, `${outcome}: ${page.status}`);
      assert.match(page.body, new RegExp(`data-outcome="${outcome}"`), `${outcome}: ${page.body}`);
    }
    assert.deepEqual(await accountKeys(), before, 'no account was stored or changed');
    assert.equal((await user.get<{ accounts: unknown[] }>('/v1/accounts')).body.accounts.length, 1);
    assert.deepEqual(await raw.keys('mp:oauth-state:*'), [], 'every state was claimed');
  });

  it('never logs a token, code, client secret or message content', () => {
    const logs = [...p.roles.values()].map((r) => r.logText()).join('\n');
    assert.ok(logs.includes('"msg":"access token refreshed"'));
    for (const secret of [CLIENT.secret, 'Signed in by OAuth', 'mpl_']) {
      assert.ok(!logs.includes(secret), `a log line contains ${secret.slice(0, 8)}…`);
    }
    assert.ok(!/\b(rt|at|code)_[A-Za-z0-9_-]{20,}/.test(logs), 'a token or code is logged');
  });

  it('keeps every refresh and access token it was issued out of Redis in clear and out of every log', async () => {
    const tokens = oauth.issuedTokens();
    assert.ok(tokens.filter((t) => t.startsWith('rt_')).length >= 3, 'refresh tokens were issued (and rotated)');
    assert.ok(tokens.filter((t) => t.startsWith('at_')).length >= 3, 'access tokens were issued');
    // Sealed grants and access tokens are in Redis: the scan must see the accounts to mean anything.
    const dump = await dumpRedis(raw);
    assert.ok(keysHolding(dump, [accountId]).length > 0, 'the scan sees the account');
    assert.deepEqual(keysHolding(dump, tokens), [], 'a token is in Redis in clear');
    const logs = [...p.roles.values()].map((r) => r.logText()).join('\n');
    assert.deepEqual(
      tokens.filter((t) => logs.includes(t)),
      [],
      'a token is in a log line',
    );
  });
});
