import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../harness';
import { makeFcmToken } from '../support/factories';
import { makeMailEvent, startDispatchRig, type DispatchRig } from './dispatch.fixture';

/** FCM delivery through a real dispatcher process, real Redis and the strict FCM fake. */
describe('FCM delivery', { timeout: 60_000 }, () => {
  let rig: DispatchRig;
  const forToken = (token: string) => rig.fcm.requests.filter((r) => r.token === token);
  const deliveredTo = (token: string) => rig.fcm.delivered().filter((r) => r.token === token);

  before(async () => {
    rig = await startDispatchRig({ env: { MAILPUSH_PUSH_TTL_S: '1800' } });
  });

  after(async () => {
    await rig?.stop();
  });

  it('sends a high-priority, non-collapsible notification with tag, ttl, data and count', async () => {
    const token = makeFcmToken();
    const { userId } = await rig.makeUser([{ platform: 'android', token, privacy: 'full' }]);
    const event = makeMailEvent(userId, { subject: 'Engines', unseen: 12 });
    await rig.enqueue([event]);
    await eventually(() => assert.equal(deliveredTo(token).length, 1));
    assert.deepEqual(deliveredTo(token)[0]?.message, {
      token,
      notification: { title: 'Ada Lovelace', body: 'Engines' },
      data: { kind: 'message', accountId: event.accountId, messageKey: event.messageKey, uid: String(event.uid) },
      android: { priority: 'high', ttl: '1800s', notification: { tag: event.messageKey, notification_count: 12 } },
    });
  });

  it('prunes a device whose token FCM answers UNREGISTERED', async () => {
    const dead = makeFcmToken();
    const alive = makeFcmToken();
    rig.fcm.markUnregistered(dead);
    const { userId } = await rig.makeUser([
      { platform: 'android', token: dead, privacy: 'full' },
      { platform: 'android', token: alive, privacy: 'full' },
    ]);
    await rig.enqueue([makeMailEvent(userId)]);
    await eventually(async () => {
      assert.deepEqual(
        (await rig.devices.listForUser(userId)).map((d) => d.token),
        [alive],
      );
      assert.equal(deliveredTo(alive).length, 1);
    });
    assert.equal(forToken(dead).length, 1);
  });

  it('retries a 503 with backoff, delivers once, and keeps the token', async () => {
    const token = makeFcmToken();
    rig.fcm.queueResponses(token, [{ status: 503 }]);
    const { userId } = await rig.makeUser([{ platform: 'android', token, privacy: 'full' }]);
    await rig.enqueue([makeMailEvent(userId)]);
    await eventually(() => assert.equal(deliveredTo(token).length, 1), { timeoutMs: 15_000 });
    await rig.quiescent();
    assert.deepEqual(
      forToken(token).map((r) => r.status),
      [503, 200],
    );
    assert.equal((await rig.devices.listForUser(userId)).length, 1);
  });

  it('does not prune a valid-looking token on INVALID_ARGUMENT, nor retry it', async () => {
    const token = makeFcmToken();
    rig.fcm.queueResponses(token, [{ status: 400, errorCode: 'INVALID_ARGUMENT' }]);
    const { userId } = await rig.makeUser([{ platform: 'android', token, privacy: 'full' }]);
    await rig.enqueue([makeMailEvent(userId)]);
    await eventually(() => assert.equal(forToken(token).length, 1));
    await rig.quiescent();
    assert.equal(forToken(token).length, 1, 'a rejected push is not retried');
    assert.deepEqual(
      (await rig.devices.listForUser(userId)).map((d) => d.token),
      [token],
    );
    // The next message reaches the same device.
    await rig.enqueue([makeMailEvent(userId)]);
    await eventually(() => assert.equal(deliveredTo(token).length, 1));
  });

  it('honours retry-after on 429 QUOTA_EXCEEDED', async () => {
    const token = makeFcmToken();
    rig.fcm.queueResponses(token, [{ status: 429, retryAfterSec: 2 }]);
    const { userId } = await rig.makeUser([{ platform: 'android', token, privacy: 'full' }]);
    await rig.enqueue([makeMailEvent(userId)]);
    await eventually(() => assert.equal(deliveredTo(token).length, 1), { timeoutMs: 15_000 });
    const [limited, retried] = forToken(token);
    assert.ok(retried!.receivedAt - limited!.receivedAt >= 2000);
  });
});
