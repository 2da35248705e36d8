import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../harness';
import type { ApiClient } from '../support/api-client';
import { makeApnsToken, makeFcmToken, makeMessage } from '../support/factories';
import { createUser, linkAccount, startPipeline, type Pipeline } from '../support/pipeline.fixture';

const ERIN = { user: 'erin', password: 'erin-first-password' };

/** A password account refused for good gets the same Reconnect loop: one push per device, a link to the form. */
describe('Reconnect for a password account', { timeout: 180_000 }, () => {
  let p: Pipeline;
  let user: ApiClient;
  let accountId: string;
  const iosToken = makeApnsToken();
  const androidToken = makeFcmToken();
  const apnsFor = () => p.apns.delivered().filter((r) => r.token === iosToken);
  const fcmFor = () => p.fcm.delivered().filter((r) => r.token === androidToken);

  before(async () => {
    p = await startPipeline({ users: [ERIN], env: { PUBLIC_URL: 'https://push.example.test' } });
    user = await createUser(p.admin);
    await user.post('/v1/devices', { platform: 'ios', token: iosToken, environment: 'sandbox' });
    await user.post('/v1/devices', { platform: 'android', token: androidToken });
    accountId = await linkAccount(user, p.dovecot, ERIN);
  });

  after(async () => {
    await p?.stop();
  });

  it('tells each device once, then re-arms the same account from the link; mail meanwhile is pushed once', async () => {
    await p.dovecot.setPassword('erin', 'erin-changed-password');
    // The next connection (a restart drops the current one) is refused.
    await p.dovecot.restart();
    await eventually(
      async () =>
        assert.equal((await user.get<{ status: string }>(`/v1/accounts/${accountId}`)).body.status, 'auth_error'),
      { timeoutMs: 30_000 },
    );
    await eventually(() => {
      assert.equal(apnsFor().length, 1);
      assert.equal(fcmFor().length, 1);
    });
    await p.quiescent();
    assert.equal(apnsFor().length, 1);
    assert.equal(fcmFor().length, 1);
    const data = (fcmFor()[0]!.message as { data: Record<string, string> }).data;
    assert.deepEqual([data.type, data.kind, data.accountId], ['reauth', 'reauth', accountId]);
    const url = new URL(data.url!);
    assert.equal(`${url.origin}${url.pathname}${url.search}`, `https://push.example.test/link?account=${accountId}`);
    const token = url.hash.slice(1);
    assert.match(token, /^mpl_/);

    await p.dovecot.deliver('erin', makeMessage({ subject: 'Sent while refused' }));
    const link = user.withToken(token);
    // A Reconnect link names its account to the page, and does nothing but re-arm it.
    assert.equal((await link.get<{ accountId?: string }>('/v1/link-session')).body.accountId, accountId);
    assert.equal((await link.post('/v1/link-session/accounts', {})).status, 403);
    const wrong = await link.request('PUT', `/v1/link-session/accounts/${accountId}/credentials`, {
      auth: { type: 'password', password: 'still-wrong' },
    });
    assert.equal(wrong.status, 422, 'a refused password leaves the link usable');
    const ok = await link.request<{ status: string }>('PUT', `/v1/link-session/accounts/${accountId}/credentials`, {
      auth: { type: 'password', password: 'erin-changed-password' },
    });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    await eventually(() => assert.equal(apnsFor().length, 2), { timeoutMs: 30_000 });
    await p.quiescent();
    const body = (apnsFor()[1]!.payload as { aps: { alert: { body: string } } }).aps.alert.body;
    assert.equal(body, 'Sent while refused');
    assert.equal(fcmFor().length, 2);
    const reused = await link.request('PUT', `/v1/link-session/accounts/${accountId}/credentials`, {
      auth: { type: 'password', password: 'erin-changed-password' },
    });
    assert.equal(reused.status, 401, 'the link was consumed by the re-arm');
  });
});
