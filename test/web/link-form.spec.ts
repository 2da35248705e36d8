import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { eventually, freePort, startDovecot, startRedis, type DovecotHandle, type RedisHandle } from '../harness';
import { ApiClient } from '../support/api-client';
import { makeAdminToken, makeMasterKey } from '../support/factories';
import { RoleProcess } from '../support/role-process';

const CHROMIUM = '/usr/bin/chromium';
const CAROL = { user: 'carol', password: 'carol-app-password' };

/** The linking web form, driven in Debian's Chromium against a real API, Redis and Dovecot. */
describe('web form', { timeout: 90_000 }, () => {
  let redis: RedisHandle;
  let dovecot: DovecotHandle;
  let api: RoleProcess;
  let browser: Browser;
  let page: Page;
  let base: string;
  let apiKey: string;
  let user: ApiClient;

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: scripts/test installs Debian's chromium`);
    [redis, dovecot] = await Promise.all([startRedis(), startDovecot({ users: [CAROL] })]);
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
    base = `http://127.0.0.1:${port}`;
    const admin = new ApiClient(base, adminToken);
    await eventually(async () => assert.equal((await admin.get('/healthz')).status, 200), { timeoutMs: 45_000 });
    apiKey = (await admin.post<{ apiKey: string }>('/v1/users', {})).body.apiKey;
    user = new ApiClient(base, apiKey);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = await browser.newPage();
  });

  after(async () => {
    await browser?.close();
    await api?.stop();
    await Promise.all([dovecot?.stop(), redis?.stop()]);
  });

  async function fill(password: string): Promise<void> {
    await page.fill('#api-key', apiKey);
    await page.dispatchEvent('#api-key', 'change');
    await page.selectOption('#provider', 'other');
    await page.fill('#email', 'carol@example.test');
    await page.fill('#username', CAROL.user);
    await page.fill('#password', password);
    await page.fill('#host', '127.0.0.1');
    await page.fill('#port', String(dovecot.port));
  }

  it('fills server settings from a provider preset', async () => {
    await page.goto(base);
    await page.selectOption('#provider', 'gmail');
    assert.equal(await page.inputValue('#host'), 'imap.gmail.com');
    assert.match((await page.textContent('#provider-hint')) ?? '', /app password/);
  });

  it('explains a rejected password and links with the right one', async () => {
    await page.goto(base);
    await fill('not-the-password');
    await page.click('#submit');
    await page.waitForSelector('#result.err');
    assert.match((await page.textContent('#result')) ?? '', /app password.*\(auth_failed\)/);

    await page.fill('#password', CAROL.password);
    await page.click('#submit');
    await page.waitForSelector('#result.ok');
    assert.match((await page.textContent('#result')) ?? '', /Linked carol@example.test/);
    await page.waitForSelector('#accounts tbody tr');
    assert.match((await page.textContent('#accounts tbody')) ?? '', /carol@example\.test/);
    assert.equal(await page.inputValue('#password'), '', 'the password field is cleared after linking');
    if (process.env.MAILPUSH_SCREENSHOT)
      await page.screenshot({ path: process.env.MAILPUSH_SCREENSHOT, fullPage: true });
  });

  it('serves the page with a strict content security policy', async () => {
    const res = await fetch(base);
    assert.match(res.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  });
  it('links through an app’s one-time URL without an API key, once', async () => {
    const session = await user.post<{ url: string; expiresAt: string }>('/v1/link-sessions', {});
    assert.equal(session.status, 201);
    assert.match(session.body.url, /\/link#mpl_[A-Za-z0-9_-]+$/);
    assert.ok(Date.parse(session.body.expiresAt) > Date.now() + 10 * 60_000);
    const before = (await user.get<{ accounts: unknown[] }>('/v1/accounts')).body.accounts.length;

    const linkPage = await browser.newPage();
    await linkPage.goto(session.body.url);
    assert.equal(await linkPage.isVisible('#api-key'), false, 'no API key is asked for');
    await linkPage.selectOption('#provider', 'other');
    await linkPage.fill('#email', 'carol+app@example.test');
    await linkPage.fill('#username', CAROL.user);
    await linkPage.fill('#host', '127.0.0.1');
    await linkPage.fill('#port', String(dovecot.port));
    await linkPage.fill('#password', 'wrong-one');
    await linkPage.click('#submit');
    await linkPage.waitForSelector('#result.err');
    assert.match((await linkPage.textContent('#result')) ?? '', /auth_failed/);
    await linkPage.fill('#password', CAROL.password);
    await linkPage.click('#submit');
    await linkPage.waitForSelector('#result.ok');
    assert.match((await linkPage.textContent('#result')) ?? '', /go back to the app/);
    assert.equal(new URL(linkPage.url()).hash, '', 'the token is dropped from the address bar');
    await linkPage.close();

    const accounts = (await user.get<{ accounts: { email: string }[] }>('/v1/accounts')).body.accounts;
    assert.equal(accounts.length, before + 1);
    assert.ok(accounts.some((a) => a.email === 'carol+app@example.test'));

    const reused = await browser.newPage();
    await reused.goto(session.body.url);
    await reused.waitForSelector('#result.err');
    assert.match((await reused.textContent('#result')) ?? '', /already used or expired/);
    assert.equal(await reused.isDisabled('#submit'), true);
    await reused.close();
  });

  it('refuses link-session calls without a live linking token', async () => {
    const token = (await user.post<{ url: string }>('/v1/link-sessions', {})).body.url.split('#')[1]!;
    const withUserKey = await user.get<{ error: { code: string } }>('/v1/link-session');
    assert.equal(withUserKey.status, 401);
    assert.equal(withUserKey.body.error.code, 'link_expired');
    const forged = await new ApiClient(base, 'mpl_forged-token-that-does-not-exist').get('/v1/link-session');
    assert.equal(forged.status, 401);
    assert.equal((await new ApiClient(base, token).get('/v1/link-session')).status, 200);
    assert.equal((await new ApiClient(base).post('/v1/link-sessions', {})).status, 401);
  });
});
