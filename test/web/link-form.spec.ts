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
    });
    base = `http://127.0.0.1:${port}`;
    const admin = new ApiClient(base, adminToken);
    await eventually(async () => assert.equal((await admin.get('/healthz')).status, 200), { timeoutMs: 20_000 });
    apiKey = (await admin.post<{ apiKey: string }>('/v1/users', {})).body.apiKey;
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
});
