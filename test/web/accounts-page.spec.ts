import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';
import webpush from 'web-push';
import { startWebPushFake, type WebPushFake, type WebPushSubscriptionJson } from '../fakes/web-push-fake';
import { eventually } from '../harness';
import type { ApiClient } from '../support/api-client';
import { launchChromium } from '../support/chromium';
import { makeMessage } from '../support/factories';
import { createUser, startPipeline, type Pipeline } from '../support/pipeline.fixture';

const ERIN = { user: 'erin', password: 'erin-app-password' };
/** Phone width: the page is mostly opened from a phone app. */
const PHONE = { width: 390, height: 844 };

/**
 * Headless Chromium reaches no real push service, so `PushManager.prototype.subscribe` is replaced
 * by one that answers with a subscription of the local Web Push fake (and records what the page
 * asked for). Everything else is real: the page, its service worker, the API, the dispatcher.
 */
function stubSubscribe(subscription: WebPushSubscriptionJson): string {
  return `(() => {
  const subscription = ${JSON.stringify(subscription)};
  PushManager.prototype.subscribe = async function (options) {
    const key = new Uint8Array(options.applicationServerKey);
    window.__mailpushSubscribe = {
      userVisibleOnly: options.userVisibleOnly,
      applicationServerKey: btoa(String.fromCharCode(...key)).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, ''),
    };
    return {
      endpoint: subscription.endpoint,
      expirationTime: null,
      options: { userVisibleOnly: true, applicationServerKey: key.buffer },
      toJSON: () => subscription,
      unsubscribe: async () => true,
    };
  };
})();`;
}

/** The page, its account list and live list, on a real pipeline (api, worker, dispatcher), Redis, Dovecot and the push fakes. */
describe('accounts page, live list and Notify this browser', { timeout: 180_000 }, () => {
  let p: Pipeline;
  let webPush: WebPushFake;
  let browser: Browser;
  let user: ApiClient;
  let base: string;
  const vapid = webpush.generateVAPIDKeys();
  const contexts: BrowserContext[] = [];

  async function linkUrl(): Promise<string> {
    const session = await user.post<{ url: string }>('/v1/link-sessions', {});
    assert.equal(session.status, 201);
    return session.body.url;
  }

  /** A phone-sized tab with notifications allowed; requests it makes are recorded. */
  async function openTab(init?: string): Promise<{ page: Page; context: BrowserContext; requests: string[] }> {
    const context = await browser.newContext({ viewport: PHONE });
    contexts.push(context);
    await context.grantPermissions(['notifications'], { origin: base });
    if (init) await context.addInitScript({ content: init });
    const page = await context.newPage();
    const requests: string[] = [];
    page.on('request', (r) => requests.push(`${r.method()} ${r.url()} ${r.headers()['authorization'] ?? ''}`));
    return { page, context, requests };
  }

  async function fillMailbox(page: Page, email: string): Promise<void> {
    await page.selectOption('#provider', 'other');
    await page.fill('#email', email);
    await page.fill('#username', ERIN.user);
    await page.fill('#password', ERIN.password);
    await page.fill('#host', p.dovecot.host);
    await page.fill('#port', String(p.dovecot.port));
    await page.click('#submit');
  }

  /** Shown notifications of the page's service worker registration. */
  async function shownNotifications(page: Page): Promise<{ title: string; body: string; tag: string }[]> {
    return (await page.evaluate(`navigator.serviceWorker.ready
      .then((r) => r.getNotifications())
      .then((list) => list.map((n) => ({ title: n.title, body: n.body, tag: n.tag })))`)) as {
      title: string;
      body: string;
      tag: string;
    }[];
  }

  /** Hands a push message to the page's real service worker, as the browser does when one arrives. */
  async function deliverToServiceWorker(cdp: CDPSession, data: string): Promise<void> {
    const registrations: { registrationId: string; scopeURL: string }[] = [];
    cdp.on('ServiceWorker.workerRegistrationUpdated', (e) => registrations.push(...e.registrations));
    await cdp.send('ServiceWorker.enable');
    await eventually(() => assert.ok(registrations.some((r) => r.scopeURL === `${base}/`)));
    const registration = registrations.find((r) => r.scopeURL === `${base}/`)!;
    await cdp.send('ServiceWorker.deliverPushMessage', {
      origin: base,
      registrationId: registration.registrationId,
      data,
    });
  }

  before(async () => {
    webPush = await startWebPushFake();
    p = await startPipeline({
      users: [ERIN],
      env: {
        VAPID_PUBLIC_KEY: vapid.publicKey,
        VAPID_PRIVATE_KEY: vapid.privateKey,
        VAPID_SUBJECT: 'mailto:ops@example.com',
      },
    });
    base = p.admin.baseUrl;
    user = await createUser(p.admin);
    browser = await launchChromium();
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await p?.stop();
    await webPush?.close();
  });

  it('shows the mailbox linked through a link session going from connecting to watching without a reload, links another and removes one', async () => {
    const { page } = await openTab();
    await page.goto(await linkUrl());
    assert.equal(await page.isVisible('#link-form'), true, 'no mailbox yet: the form comes first');
    // Gone if the page reloads: the status below must go live in this very document.
    await page.evaluate('window.__sameDocument = true');
    await fillMailbox(page, 'erin@example.test');
    const row = page.locator('#accounts tbody tr', { hasText: 'erin@example.test' });
    await row.waitFor();
    await row.locator('td[data-status="idle"]', { hasText: 'Watching' }).waitFor({ timeout: 30_000 });
    assert.equal(await page.evaluate('window.__sameDocument'), true, 'the status went live without a reload');

    await page.click('#link-another');
    await fillMailbox(page, 'erin+spare@example.test');
    const spare = page.locator('#accounts tbody tr', { hasText: 'erin+spare@example.test' });
    await spare.waitFor();
    page.once('dialog', (dialog) => void dialog.accept());
    await page.click('button[aria-label="Remove erin+spare@example.test"]');
    await spare.waitFor({ state: 'detached' });
    await page.locator('#accounts-status.ok', { hasText: 'Removed erin+spare@example.test' }).waitFor();
    const left = (await user.get<{ accounts: { email: string }[] }>('/v1/accounts')).body.accounts;
    assert.deepEqual(
      left.map((a) => a.email),
      ['erin@example.test'],
    );
    if (process.env.MAILPUSH_SCREENSHOT)
      await page.screenshot({ path: process.env.MAILPUSH_SCREENSHOT, fullPage: true });
  });

  it('shows a delivered message in the live list, read over SSE with the token in a header and in no URL', async () => {
    const url = await linkUrl();
    const token = url.split('#')[1]!;
    const { page, requests } = await openTab();
    await page.goto(url);
    await page.locator('#live-status', { hasText: 'Connected' }).waitFor();
    const message = makeMessage({ from: 'Grace Hopper <grace@example.com>', subject: 'Compiler ready' });
    await p.dovecot.deliver(ERIN.user, message);
    const item = page.locator('#live-list li', { hasText: 'Grace Hopper — Compiler ready' });
    await item.waitFor({ timeout: 20_000 });
    assert.match((await item.textContent()) ?? '', /erin@example\.test/, 'the mailbox it arrived in');
    await eventually(async () =>
      assert.notEqual(await page.textContent('#accounts tbody tr td:nth-child(3)'), '—', 'last new mail is shown'),
    );
    const streamRequest = requests.find((r) => r.startsWith(`GET ${base}/v1/link-session/events `));
    assert.ok(streamRequest?.endsWith(`Bearer ${token}`), 'the stream is authorised by a header');
    for (const r of requests) assert.ok(!r.split(' ')[1]!.includes(token), `token in a URL: ${r.split(' ')[1]}`);
  });

  it('Notify this browser (PushManager.subscribe stubbed to a Web Push fake subscription) registers a web device; a delivered message reaches the fake, decrypts, and the service worker shows it', async () => {
    const subscription = webPush.subscribe({ applicationServerKey: vapid.publicKey });
    const { page, context } = await openTab(stubSubscribe(subscription));
    await page.goto(await linkUrl());
    await page.click('#notify');
    await page.locator('#notify-status.ok').waitFor({ timeout: 20_000 });
    assert.deepEqual(await page.evaluate('window.__mailpushSubscribe'), {
      userVisibleOnly: true,
      applicationServerKey: vapid.publicKey,
    });
    const devices = (await user.get<{ devices: { platform: string; endpointOrigin?: string }[] }>('/v1/devices')).body
      .devices;
    assert.ok(devices.some((d) => d.platform === 'web' && d.endpointOrigin === webPush.origin));

    await p.dovecot.deliver(
      ERIN.user,
      makeMessage({ from: 'Ada Lovelace <ada@example.com>', subject: 'Notes, part G' }),
    );
    const forThis = () => webPush.delivered().filter((r) => subscription.endpoint.endsWith(`/push/${r.id}`));
    await eventually(() => assert.equal(forThis().length, 1), { timeoutMs: 20_000 });
    const push = forThis()[0]!;
    const payload = JSON.parse(push.plaintext!) as { title: string; body: string; tag: string };
    assert.equal(payload.title, 'Ada Lovelace');
    assert.equal(payload.body, 'Notes, part G');

    await page.locator('#live-list li', { hasText: 'Notes, part G' }).waitFor();
    const shots = process.env.MAILPUSH_SCREENSHOT_DIR;
    if (shots) await page.screenshot({ path: join(shots, 'accounts-page.png'), fullPage: true });

    const cdp = await context.newCDPSession(page);
    await deliverToServiceWorker(cdp, push.plaintext!);
    await eventually(async () =>
      assert.deepEqual(await shownNotifications(page), [
        { title: 'Ada Lovelace', body: 'Notes, part G', tag: payload.tag },
      ]),
    );
  });

  it('with "Just New mail" chosen, the push carries no sender or subject and the service worker shows "New mail" (subscribe stubbed as above)', async () => {
    const subscription = webPush.subscribe({ applicationServerKey: vapid.publicKey });
    const { page, context } = await openTab(stubSubscribe(subscription));
    await page.goto(await linkUrl());
    await page.selectOption('#privacy', 'none');
    await page.click('#notify');
    await page.locator('#notify-status.ok').waitFor({ timeout: 20_000 });

    await p.dovecot.deliver(ERIN.user, makeMessage({ from: 'Zebedee <zeb@secret.example>', subject: 'Layoffs' }));
    const forThis = () => webPush.delivered().filter((r) => subscription.endpoint.endsWith(`/push/${r.id}`));
    await eventually(() => assert.equal(forThis().length, 1), { timeoutMs: 20_000 });
    const plaintext = forThis()[0]!.plaintext!;
    for (const word of ['Zebedee', 'zeb@', 'Layoffs']) assert.ok(!plaintext.includes(word), word);

    await deliverToServiceWorker(await context.newCDPSession(page), plaintext);
    await eventually(async () => {
      const shown = await shownNotifications(page);
      assert.deepEqual(
        shown.map((n) => [n.title, n.body]),
        [['New mail', '']],
      );
    });
  });
});
