import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { eventually, freePort, startDovecot, startRedis, type DovecotHandle, type RedisHandle } from '../harness';
import { Redis } from 'ioredis';
import { LinkSessionRepository, RedisKeys, sha256Hex } from '@mailpush/store';
import { ApiClient } from '../support/api-client';
import { launchChromium } from '../support/chromium';
import { makeAdminToken, makeMasterKey } from '../support/factories';
import { RoleProcess } from '../support/role-process';

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
  let userId: string;
  let user: ApiClient;

  before(async () => {
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
    ({ apiKey, id: userId } = (await admin.post<{ apiKey: string; id: string }>('/v1/users', {})).body);
    user = new ApiClient(base, apiKey);
    browser = await launchChromium();
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

  it('serves the built static files by exact name with the same headers, and nothing else', async () => {
    const html = await (await fetch(base)).text();
    assert.doesNotMatch(html, /<script>|<style>| style=| on[a-z]+=/i, 'no inline script or style');
    for (const [path, type] of [
      ['/assets/app.js', /^text\/javascript/],
      ['/assets/app.css', /^text\/css/],
      ['/link', /^text\/html/],
    ] as const) {
      const res = await fetch(`${base}${path}`);
      assert.equal(res.status, 200, path);
      assert.match(res.headers.get('content-type') ?? '', type, path);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', path);
      assert.equal(res.headers.get('referrer-policy'), 'no-referrer', path);
      assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'/, path);
    }
    for (const path of ['/assets/nope.js', '/assets/..%2Findex.html', '/assets/%2e%2e%2f%2e%2e%2fpackage.json']) {
      assert.equal((await fetch(`${base}${path}`)).status, 404, path);
    }
  });

  it('runs the page without a script error or a content-security-policy violation', async () => {
    const problems: string[] = [];
    const fresh = await browser.newPage();
    fresh.on('pageerror', (err) => problems.push(err.message));
    fresh.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(msg.text());
    });
    await fresh.goto(base);
    await fresh.waitForSelector('#provider option[value="gmail"]', { state: 'attached' });
    await fresh.close();
    assert.deepEqual(problems, []);
  });
  // Link sessions used to end at the first link; they are now a 15-minute capability, so that the
  // person can link a second mailbox, manage them and turn on notifications from the same link.
  it('links through an app’s link without an API key, and the link stays usable for more until ended (a 15-minute capability, not one-time)', async () => {
    const session = await user.post<{ url: string; expiresAt: string }>('/v1/link-sessions', {});
    assert.equal(session.status, 201);
    assert.match(session.body.url, /\/link#mpl_[A-Za-z0-9_-]+$/);
    assert.ok(Date.parse(session.body.expiresAt) > Date.now() + 10 * 60_000);
    const before = (await user.get<{ accounts: unknown[] }>('/v1/accounts')).body.accounts.length;

    const linkPage = await browser.newPage();
    await linkPage.goto(session.body.url);
    assert.equal(new URL(linkPage.url()).hash, '', 'the token leaves the address bar at once');
    assert.equal(await linkPage.isVisible('#api-key'), false, 'no API key is asked for');
    // The user linked a mailbox in an earlier test: the link opens on their accounts page.
    await linkPage.locator('#accounts tbody tr', { hasText: 'carol@example.test' }).waitFor();
    await linkPage.click('#link-another');
    const linkMailbox = async (email: string, password: string) => {
      await linkPage.selectOption('#provider', 'other');
      await linkPage.fill('#email', email);
      await linkPage.fill('#username', CAROL.user);
      await linkPage.fill('#host', '127.0.0.1');
      await linkPage.fill('#port', String(dovecot.port));
      await linkPage.fill('#password', password);
      await linkPage.click('#submit');
    };
    await linkMailbox('carol+app@example.test', 'wrong-one');
    await linkPage.waitForSelector('#result.err');
    assert.match((await linkPage.textContent('#result')) ?? '', /auth_failed/);
    await linkMailbox('carol+app@example.test', CAROL.password);
    await linkPage.locator('#accounts-status.ok', { hasText: 'Linked carol+app@example.test' }).waitFor();
    assert.equal(await linkPage.isVisible('#link-form'), false, 'the accounts page replaces the form');
    await linkPage.locator('#accounts tbody tr', { hasText: 'carol+app@example.test' }).waitFor();
    await linkPage.click('#link-another');
    await linkMailbox('carol+second@example.test', CAROL.password);
    await linkPage.locator('#accounts-status.ok', { hasText: 'Linked carol+second@example.test' }).waitFor();
    await linkPage.close();

    const accounts = (await user.get<{ accounts: { email: string }[] }>('/v1/accounts')).body.accounts;
    assert.equal(accounts.length, before + 2);
    for (const email of ['carol+app@example.test', 'carol+second@example.test'])
      assert.ok(
        accounts.some((a) => a.email === email),
        email,
      );

    const reopened = await browser.newPage();
    await reopened.goto(session.body.url);
    await reopened.locator('#accounts tbody tr', { hasText: 'carol+second@example.test' }).waitFor();
    assert.equal(await reopened.textContent('#result'), '', 'a live link opens again, on the accounts page');
    await reopened.close();

    const token = session.body.url.split('#')[1]!;
    assert.equal((await new ApiClient(base, token).delete('/v1/link-session')).status, 204);
    const ended = await browser.newPage();
    await ended.goto(session.body.url);
    await ended.waitForSelector('#result.err');
    assert.match((await ended.textContent('#result')) ?? '', /ended or expired/);
    assert.equal(await ended.isDisabled('#submit'), true);
    await ended.close();
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

  it('opens a password account’s Reconnect link as a password-only form: a wrong password is explained, the right one re-arms the account and uses the link up', async () => {
    const carol = (await user.get<{ accounts: { id: string; email: string }[] }>('/v1/accounts')).body.accounts.find(
      (a) => a.email === 'carol@example.test',
    );
    assert.ok(carol, 'linked by an earlier test');
    const raw = new Redis(redis.url);
    try {
      // The link a Reconnect notification carries for a password account (libs/delivery/reconnect-links.ts).
      const { token } = await new LinkSessionRepository(raw).createScoped(userId, carol.id, 60_000);
      const url = `${base}/link?account=${carol.id}#${token}`;
      const reconnect = await browser.newPage();
      await reconnect.goto(url);
      await reconnect.locator('#form-title', { hasText: 'Reconnect your mailbox' }).waitFor();
      for (const hidden of ['#provider', '#email', '#host', '#api-key'])
        assert.equal(await reconnect.isVisible(hidden), false, `${hidden} is not asked for`);
      await reconnect.fill('#password', 'still-wrong');
      await reconnect.click('#submit');
      await reconnect.waitForSelector('#result.err');
      assert.match((await reconnect.textContent('#result')) ?? '', /app password.*\(auth_failed\)/);
      await reconnect.fill('#password', CAROL.password);
      await reconnect.fill('#username', CAROL.user);
      await reconnect.click('#submit');
      await reconnect.locator('#result.ok', { hasText: 'Reconnected carol@example.test' }).waitFor();
      await reconnect.close();
      assert.equal(await raw.exists(RedisKeys.linkSession(sha256Hex(token))), 0, 'the Reconnect link is used up');

      const again = await browser.newPage();
      await again.goto(url);
      await again.locator('#result.err', { hasText: 'ended or expired' }).waitFor();
      assert.equal(await again.isDisabled('#submit'), true);
      await again.close();
    } finally {
      await raw.quit();
    }
  });
});
