import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../harness';
import { createApiUser, makeMailEvent, startDispatchRig, type DispatchRig } from './dispatch.fixture';

/** Web Push end to end: a page subscribes with the API's VAPID key, registers, and the push service fake decrypts what arrives. */
describe('Web Push delivery', { timeout: 60_000 }, () => {
  let rig: DispatchRig;
  const deliveredTo = (endpoint: string) => rig.web.delivered().filter((r) => endpoint.endsWith(`/push/${r.id}`));

  before(async () => {
    rig = await startDispatchRig({ api: true });
  });

  after(async () => {
    await rig?.stop();
  });

  it('exposes the VAPID public key, registers a browser subscription and pushes an encrypted notification', async () => {
    const key = await rig.admin.withToken('').get<{ publicKey: string }>('/v1/vapid-public-key');
    assert.equal(key.status, 200);
    assert.equal(key.body.publicKey, rig.vapidPublicKey);

    const { client, userId } = await createApiUser(rig.admin);
    const subscription = rig.web.subscribe({ applicationServerKey: key.body.publicKey });
    const created = await client.post<{ id: string; platform: string; endpointOrigin: string }>('/v1/devices', {
      platform: 'web',
      subscription,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.endpointOrigin, rig.web.origin);
    assert.equal(
      (await client.post('/v1/devices', { platform: 'web', subscription })).status,
      200,
      'same subscription: same device',
    );
    const listed = JSON.stringify((await client.get('/v1/devices')).body);
    assert.ok(
      !listed.includes(subscription.keys.auth) && !listed.includes(subscription.endpoint),
      'keys and endpoint are not shown',
    );

    const event = makeMailEvent(userId, { subject: 'Analytical engine ✓', unseen: 2 });
    await rig.enqueue([event]);
    await eventually(() => assert.equal(deliveredTo(subscription.endpoint).length, 1));
    const [req] = deliveredTo(subscription.endpoint);
    assert.deepEqual(JSON.parse(req!.plaintext!), {
      title: 'Ada Lovelace',
      body: 'Analytical engine ✓',
      tag: event.messageKey,
      badge: 2,
      data: { kind: 'message', accountId: event.accountId, messageKey: event.messageKey, uid: String(event.uid) },
    });
    assert.equal(req!.vapid?.aud, rig.web.origin);
  });

  it('keeps sender and subject out of a `none` subscription, even inside the encrypted payload', async () => {
    const { client, userId } = await createApiUser(rig.admin);
    const subscription = rig.web.subscribe({ applicationServerKey: rig.vapidPublicKey });
    assert.equal((await client.post('/v1/devices', { platform: 'web', subscription, privacy: 'none' })).status, 201);
    await rig.enqueue([
      makeMailEvent(userId, { from: { name: 'Zebedee', address: 'zeb@secret.example' }, subject: 'Quarterly layoffs' }),
    ]);
    await eventually(() => assert.equal(deliveredTo(subscription.endpoint).length, 1));
    const [req] = deliveredTo(subscription.endpoint);
    for (const word of ['Zebedee', 'zeb@', 'Quarterly']) {
      assert.ok(!req!.plaintext!.includes(word) && !JSON.stringify(req!.headers).includes(word), word);
    }
    assert.equal((JSON.parse(req!.plaintext!) as { locKey: string }).locKey, 'NEW_MAIL');
  });

  it('prunes a subscription the push service answers 410 Gone', async () => {
    const { client, userId } = await createApiUser(rig.admin);
    const subscription = rig.web.subscribe({ applicationServerKey: rig.vapidPublicKey });
    rig.web.markGone(subscription.endpoint);
    assert.equal((await client.post('/v1/devices', { platform: 'web', subscription })).status, 201);
    await rig.enqueue([makeMailEvent(userId)]);
    await eventually(async () =>
      assert.deepEqual((await client.get<{ devices: unknown[] }>('/v1/devices')).body.devices, []),
    );
  });

  it('refuses a malformed subscription', async () => {
    const { client } = await createApiUser(rig.admin);
    const subscription = rig.web.subscribe();
    for (const bad of [
      { ...subscription, endpoint: subscription.endpoint.replace('https:', 'http:') },
      { ...subscription, endpoint: `https://push.example.com/${'x'.repeat(2100)}` },
      { ...subscription, keys: { ...subscription.keys, p256dh: 'AAAA' } },
      { endpoint: subscription.endpoint },
    ]) {
      const res = await client.post<{ error: { code: string } }>('/v1/devices', { platform: 'web', subscription: bad });
      assert.equal(res.status, 400, JSON.stringify(res.body));
    }
  });
});
