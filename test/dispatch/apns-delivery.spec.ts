import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../harness';
import { makeApnsToken, makeFcmToken } from '../support/factories';
import { APNS_TOPIC, makeMailEvent, startDispatchRig, type DispatchRig } from './dispatch.fixture';

type ApsPayload = {
  aps: { alert: Record<string, unknown>; badge?: number; 'thread-id'?: string; 'mutable-content'?: number };
} & Record<string, unknown>;

/** APNs delivery through real dispatcher processes, real Redis and the strict APNs fake, with either client. */
for (const client of ['node-apn', 'http2'] as const)
  describe(`APNs delivery (APNS_CLIENT=${client})`, { timeout: 60_000 }, () => {
    let rig: DispatchRig;
    const forToken = (token: string) => rig.apns.requests.filter((r) => r.token === token);
    const deliveredTo = (token: string) => rig.apns.delivered().filter((r) => r.token === token);

    before(async () => {
      rig = await startDispatchRig({ dispatchers: 1, env: { APNS_CLIENT: client } });
    });

    after(async () => {
      await rig?.stop();
    });

    it('delivers one alert per device with collapse id, thread, data and badge; a duplicate event adds nothing', async () => {
      const token = makeApnsToken();
      const { userId } = await rig.makeUser([{ platform: 'ios', token, environment: 'sandbox', privacy: 'full' }]);
      const event = makeMailEvent(userId, { subject: 'Engines', unseen: 3 });
      await rig.enqueue([event]);
      await eventually(() => assert.equal(deliveredTo(token).length, 1));
      const [req] = deliveredTo(token);
      assert.equal(req?.headers['apns-collapse-id'], event.messageKey);
      assert.equal(req?.headers['apns-topic'], APNS_TOPIC);
      assert.equal(req?.headers['apns-push-type'], 'alert');
      assert.deepEqual(req?.payload, {
        kind: 'message',
        accountId: event.accountId,
        messageKey: event.messageKey,
        uid: String(event.uid),
        aps: {
          alert: { title: 'Ada Lovelace', body: 'Engines' },
          badge: 3,
          'thread-id': event.accountId,
          'mutable-content': 1,
        },
      });
      await rig.quiescent();
      // The worker enqueuing the same message again (a reconnect) is deduplicated by job id.
      await rig.enqueue([event, { ...event, detectedAt: Date.now() }]);
      await rig.quiescent();
      assert.equal(deliveredTo(token).length, 1);
    });

    it('uses one JWT for every send, across two dispatcher processes', async () => {
      const tokens = Array.from({ length: 30 }, makeApnsToken);
      const { userId } = await rig.makeUser(
        tokens.map((token, i) => ({
          platform: 'ios' as const,
          token,
          environment: i % 2 ? ('sandbox' as const) : ('production' as const),
          privacy: 'full' as const,
        })),
      );
      const first = rig.dispatchers[0]!;
      await rig.enqueue([makeMailEvent(userId)]);
      await eventually(() => assert.equal(tokens.filter((t) => deliveredTo(t).length === 1).length, 30));

      // A second process takes over alone (so it certainly sends), then both run together.
      const second = rig.startDispatcher();
      assert.equal(await first.stop(), 0);
      await rig.enqueue([makeMailEvent(userId)]);
      await eventually(() => assert.equal(tokens.filter((t) => deliveredTo(t).length === 2).length, 30), {
        timeoutMs: 20_000,
      });
      rig.startDispatcher();
      await rig.enqueue([makeMailEvent(userId), makeMailEvent(userId)]);
      await eventually(() => assert.equal(tokens.filter((t) => deliveredTo(t).length === 4).length, 30), {
        timeoutMs: 20_000,
      });
      assert.ok(second.running);
      assert.equal(rig.apns.jwtsSeen().size, 1, 'one provider token for the team, whichever process sent');
    });

    it('prunes a device on 410 Unregistered, 400 BadDeviceToken and DeviceTokenNotForTopic, and only that device', async () => {
      const gone = makeApnsToken();
      const bad = makeApnsToken();
      const otherApp = makeApnsToken();
      const fine = makeApnsToken();
      rig.apns.markUnregistered(gone);
      rig.apns.markBadToken(bad);
      rig.apns.queueResponses(otherApp, [{ status: 400, reason: 'DeviceTokenNotForTopic' }]);
      const { userId, devices } = await rig.makeUser([
        { platform: 'ios', token: gone, environment: 'production', privacy: 'full' },
        { platform: 'ios', token: bad, environment: 'production', privacy: 'full' },
        { platform: 'ios', token: otherApp, environment: 'sandbox', privacy: 'full' },
        { platform: 'ios', token: fine, environment: 'production', privacy: 'full' },
      ]);
      await rig.enqueue([makeMailEvent(userId)]);
      await eventually(async () => {
        const left = await rig.devices.listForUser(userId);
        assert.deepEqual(
          left.map((d) => d.token),
          [fine],
        );
        assert.equal(deliveredTo(fine).length, 1);
      });
      assert.deepEqual(
        [forToken(gone).length, forToken(bad).length, forToken(otherApp).length],
        [1, 1, 1],
        'a dead token is not retried',
      );
      assert.equal(devices.length, 4);
    });

    it('retries a 500 with backoff and delivers exactly once', async () => {
      const token = makeApnsToken();
      rig.apns.queueResponses(token, [{ status: 500, reason: 'InternalServerError' }]);
      const { userId } = await rig.makeUser([{ platform: 'ios', token, environment: 'sandbox', privacy: 'full' }]);
      await rig.enqueue([makeMailEvent(userId)]);
      await eventually(() => assert.equal(deliveredTo(token).length, 1), { timeoutMs: 15_000 });
      await rig.quiescent();
      assert.deepEqual(
        forToken(token).map((r) => r.status),
        [500, 200],
      );
      assert.equal((await rig.devices.listForUser(userId)).length, 1, 'never pruned on a transient error');
    });

    it('honours retry-after on 429: the next attempt comes no sooner than 2 s later', async () => {
      const token = makeApnsToken();
      rig.apns.queueResponses(token, [{ status: 429, reason: 'TooManyRequests', retryAfterSec: 2 }]);
      const { userId } = await rig.makeUser([{ platform: 'ios', token, environment: 'sandbox', privacy: 'full' }]);
      await rig.enqueue([makeMailEvent(userId)]);
      await eventually(() => assert.equal(deliveredTo(token).length, 1), { timeoutMs: 15_000 });
      const [limited, retried] = forToken(token);
      assert.equal(limited?.status, 429);
      assert.equal(retried?.status, 200);
      const gap = retried!.receivedAt - limited!.receivedAt;
      assert.ok(gap >= 2000, `retried after ${gap} ms`);
    });

    it('shortens a subject that would make the payload exceed 4096 bytes instead of failing', async () => {
      const token = makeApnsToken();
      const { userId } = await rig.makeUser([{ platform: 'ios', token, environment: 'sandbox', privacy: 'full' }]);
      const subject = `Re: "${'Ünïcödé ✓ 😀 '.repeat(400)}"`;
      await rig.enqueue([makeMailEvent(userId, { subject })]);
      await eventually(() => assert.equal(deliveredTo(token).length, 1));
      const [req] = deliveredTo(token);
      const size = Buffer.byteLength(req!.rawBody, 'utf8');
      assert.ok(size <= 4096, `${size} bytes`);
      const body = String((req!.payload as ApsPayload).aps.alert.body);
      assert.ok(body.endsWith('…') && subject.startsWith(body.slice(0, -1)), 'cut on a character boundary');
    });

    it('privacy tiers: `none` leaks neither sender nor subject anywhere in the request; `sender` hides the subject', async () => {
      const noneIos = makeApnsToken();
      const senderIos = makeApnsToken();
      const noneAndroid = makeFcmToken();
      const { userId } = await rig.makeUser([
        { platform: 'ios', token: noneIos, environment: 'sandbox', privacy: 'none' },
        { platform: 'ios', token: senderIos, environment: 'sandbox', privacy: 'sender' },
        { platform: 'android', token: noneAndroid, privacy: 'none' },
      ]);
      const event = makeMailEvent(userId, {
        from: { name: 'Zebedee Secretname', address: 'zeb@secret.example' },
        subject: 'Quarterly layoffs',
      });
      await rig.enqueue([event]);
      await eventually(() => {
        assert.equal(deliveredTo(noneIos).length, 1);
        assert.equal(deliveredTo(senderIos).length, 1);
        assert.equal(rig.fcm.delivered().filter((r) => r.token === noneAndroid).length, 1);
      });
      const leaks = (text: string) =>
        ['Zebedee', 'Secretname', 'zeb@', 'secret.example', 'Quarterly', 'layoffs'].filter((w) => text.includes(w));
      const ios = deliveredTo(noneIos)[0]!;
      assert.deepEqual(leaks(JSON.stringify(ios.headers) + ios.rawBody + ios.path), []);
      assert.deepEqual((ios.payload as ApsPayload).aps.alert, { body: 'New mail', 'loc-key': 'NEW_MAIL' });
      assert.equal((ios.payload as ApsPayload).messageKey, event.messageKey, 'the app can still open the message');
      const android = rig.fcm.delivered().find((r) => r.token === noneAndroid)!;
      assert.deepEqual(leaks(JSON.stringify(android.headers) + android.rawBody), []);
      const sender = deliveredTo(senderIos)[0]!;
      assert.deepEqual((sender.payload as ApsPayload).aps.alert, {
        title: 'Zebedee Secretname',
        body: 'New message',
        'loc-key': 'NEW_MESSAGE',
      });
      assert.ok(!sender.rawBody.includes('Quarterly'));
    });
  });
