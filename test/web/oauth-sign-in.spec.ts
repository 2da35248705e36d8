import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { eventually, freePort, startOAuthServer, type DovecotHandle, type OAuthServer } from '../harness';
import type { ApiClient } from '../support/api-client';
import { launchChromium } from '../support/chromium';
import { makeApnsToken, makeFcmToken, makeMessage } from '../support/factories';
import { createUser, startPipeline, type Pipeline } from '../support/pipeline.fixture';

const EMAIL = 'frank@example.test';
const CLIENT = { id: 'mailpush-web-test', secret: randomBytes(24).toString('base64url') };
const SCOPES = ['openid', 'email', 'https://mail.google.com/'];

/** The Gmail preset, pointed at the local OAuth2 server and Dovecot (what an operator's file can do). */
function providersFile(oauth: OAuthServer, dovecot: DovecotHandle): string {
  const file = join(mkdtempSync(join(tmpdir(), 'mailpush-web-oauth-')), 'providers.json');
  writeFileSync(
    file,
    JSON.stringify({
      providers: [
        {
          id: 'gmail',
          name: 'Gmail',
          hint: 'Sign in with Google, or use an app password (Google Account → Security → App passwords).',
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
  return file;
}

/**
 * "Sign in with Google" clicked in Debian's Chromium: the page → the API's OAuth start → the local
 * authorization server (approves or denies at once: the consent) → the callback (XOAUTH2 login
 * against Dovecot's oauth2 passdb) → back on the page, which follows the account to "Watching".
 * Real Redis, Dovecot, the three roles and the strict APNs/FCM fakes.
 */
describe('web sign-in with an OAuth2 provider', { timeout: 180_000 }, () => {
  let oauth: OAuthServer;
  let p: Pipeline;
  let raw: Redis;
  let user: ApiClient;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const iosToken = makeApnsToken();
  const androidToken = makeFcmToken();

  async function linkUrl(): Promise<string> {
    const session = await user.post<{ url: string }>('/v1/link-sessions', {});
    assert.equal(session.status, 201);
    return session.body.url;
  }

  /** The authorization server is HTTPS with the test CA, which this browser profile is told to accept. */
  async function openTab(): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, ignoreHTTPSErrors: true });
    contexts.push(context);
    return context.newPage();
  }

  before(async () => {
    const port = await freePort();
    const api = `http://127.0.0.1:${port}`;
    oauth = await startOAuthServer({
      clientId: CLIENT.id,
      clientSecret: CLIENT.secret,
      redirectUri: `${api}/v1/oauth/callback`,
      userEmail: EMAIL,
      requiredScopes: SCOPES,
    });
    p = await startPipeline({
      users: [{ user: EMAIL, password: randomBytes(18).toString('base64url') }],
      port,
      dovecot: { oauth2: { introspectionUrl: oauth.introspectionUrl } },
      env: { PUBLIC_URL: api },
      envFor: (dovecot) => ({ MAILPUSH_PROVIDERS_FILE: providersFile(oauth, dovecot) }),
    });
    raw = new Redis(p.redis.url);
    user = await createUser(p.admin);
    assert.equal(
      (await user.post('/v1/devices', { platform: 'ios', token: iosToken, environment: 'sandbox' })).status,
      201,
    );
    assert.equal((await user.post('/v1/devices', { platform: 'android', token: androidToken })).status, 201);
    browser = await launchChromium();
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await raw?.quit();
    await p?.stop();
    await oauth?.close();
  });

  it('Sign in with Google → consent → back on the page, the account’s live status turns to watching without a reload → a delivered message reaches the APNs and FCM fakes', async () => {
    const page = await openTab();
    await page.goto(await linkUrl());
    await page.selectOption('#provider', 'gmail');
    assert.match((await page.textContent('#provider-hint')) ?? '', /app password/, 'the password path stays');
    assert.equal(await page.isVisible('#password'), true);
    await page.fill('#email', EMAIL);
    const shots = process.env.MAILPUSH_SCREENSHOT_DIR;
    if (shots) await page.screenshot({ path: join(shots, 'link-form.png'), fullPage: true });
    await page.click('button:has-text("Sign in with Google")');

    await page.waitForURL(/\/link\?linked=acc_[0-9a-f]+$/, { timeout: 30_000 });
    const accountId = new URL(page.url()).searchParams.get('linked')!;
    assert.equal(oauth.authorizeRequests.at(-1)?.get('login_hint'), EMAIL, 'the address typed is the login hint');
    await page.evaluate('window.__sameDocument = true');
    await page.locator('#accounts-status', { hasText: `Signed in: ${EMAIL} — Watching` }).waitFor({ timeout: 30_000 });
    assert.equal(await page.evaluate('window.__sameDocument'), true, 'watching shown without a reload');
    const row = page.locator(`#accounts tbody tr[data-id="${accountId}"]`);
    assert.match((await row.textContent()) ?? '', new RegExp(`${EMAIL}.*Watching`));

    const apnsFor = () => p.apns.delivered().filter((r) => r.token === iosToken);
    const fcmFor = () => p.fcm.delivered().filter((r) => r.token === androidToken);
    await p.dovecot.deliver(EMAIL, makeMessage({ from: 'Ada <ada@example.com>', subject: 'Signed in from the web' }));
    await eventually(
      () => {
        assert.equal(apnsFor().length, 1);
        assert.equal(fcmFor().length, 1);
      },
      { timeoutMs: 20_000 },
    );
    const aps = (apnsFor()[0]!.payload as { aps: { alert: { body: string } } }).aps;
    assert.equal(aps.alert.body, 'Signed in from the web');
    await page.locator('#live-list li', { hasText: 'Signed in from the web' }).waitFor();
    await p.quiescent();
    assert.equal(apnsFor().length, 1, 'once');
    assert.equal(fcmFor().length, 1, 'once');
  });

  it('access_denied at the provider → the page says so in plain words, and nothing is stored', async () => {
    const accountsBefore = (await raw.keys('mp:account:*')).sort();
    const page = await openTab();
    await page.goto(await linkUrl());
    await page.locator('#accounts tbody tr', { hasText: EMAIL }).waitFor();
    await page.click('#link-another');
    await page.selectOption('#provider', 'gmail');
    oauth.decision = 'deny';
    try {
      await page.click('button:has-text("Sign in with Google")');
      await page.waitForURL(/\/v1\/oauth\/callback\?/, { timeout: 30_000 });
    } finally {
      oauth.decision = 'approve';
    }
    const text = (await page.textContent('body')) ?? '';
    assert.match(text, /did not allow access to your mailbox, so nothing was linked/);
    assert.deepEqual((await raw.keys('mp:account:*')).sort(), accountsBefore, 'no account stored or changed');
    assert.equal((await user.get<{ accounts: unknown[] }>('/v1/accounts')).body.accounts.length, 1);
  });
});
