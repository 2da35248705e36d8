import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { DeadLetterRepository } from '@mailpush/delivery';
import { ErrorClass } from '@mailpush/errors';
import {
  JOB_DEFAULTS,
  JobName,
  QueueName,
  dedupJobOptions,
  deliveryJobId,
  type DeliveryJob,
  type MailEvent,
} from '@mailpush/queue';
import { sha256Hex } from '@mailpush/store';
import { makeMailEvent } from '../dispatch/dispatch.fixture';
import { eventually, startFaultProxy, type FaultProxy } from '../harness';
import { ApiClient } from '../support/api-client';
import { makeApnsToken, makeFcmToken, makeMessage } from '../support/factories';
import { startPipeline, type Pipeline } from '../support/pipeline.fixture';
import { dumpRedis, keysHolding } from '../support/redis-dump';

const LOGIN = { user: 'lifecycle', password: 'lifecycle-password-1' };
const EMAIL = 'lifecycle.person@example.test';

/** Issue 9: an operator can rotate a user's key and delete a user, leaving nothing of them in Redis. */
describe('user lifecycle: key rotation and erasure', { timeout: 120_000 }, () => {
  let p: Pipeline;
  let raw: Redis;
  let proxy: FaultProxy;

  before(async () => {
    p = await startPipeline({ users: [LOGIN] });
    raw = new Redis(p.redis.url);
    proxy = await startFaultProxy({ targetPort: p.dovecot.port });
  });

  after(async () => {
    await proxy?.close();
    await raw?.quit();
    await p?.stop();
  });

  const newUser = async (): Promise<{ id: string; client: ApiClient }> => {
    const res = await p.admin.post<{ id: string; apiKey: string }>('/v1/users', {});
    assert.equal(res.status, 201);
    return { id: res.body.id, client: p.admin.withToken(res.body.apiKey) };
  };

  it('rotates an API key: the new one works, the old one is dead at once', async () => {
    const { id, client } = await newUser();
    assert.equal((await client.get('/v1/devices')).status, 200);
    const rotated = await p.admin.post<{ id: string; apiKey: string }>(`/v1/users/${id}/api-key`, {});
    assert.equal(rotated.status, 200);
    assert.equal(rotated.body.id, id);
    assert.equal((await client.get('/v1/devices')).status, 401, 'old key refused');
    assert.equal((await p.admin.withToken(rotated.body.apiKey).get('/v1/devices')).status, 200);
    assert.equal((await p.admin.post('/v1/users/usr_00000000000000000000/api-key', {})).status, 404);
    assert.equal((await client.post(`/v1/users/${id}/api-key`, {})).status, 401, 'admin only');
  });

  it('deletes a user: the watcher disconnects and nothing of them is left in Redis', async () => {
    const bystander = await newUser();
    const bystanderDevice = await bystander.client.post<{ id: string }>('/v1/devices', {
      platform: 'ios',
      token: makeApnsToken(),
    });
    assert.equal(bystanderDevice.status, 201);

    const { id: userId, client } = await newUser();
    const iosToken = makeApnsToken();
    const fcmToken = makeFcmToken();
    const ios = await client.post<{ id: string }>('/v1/devices', {
      platform: 'ios',
      token: iosToken,
      environment: 'sandbox',
    });
    const android = await client.post<{ id: string }>('/v1/devices', { platform: 'android', token: fcmToken });
    assert.equal(ios.status, 201);
    assert.equal(android.status, 201);
    const linked = await client.post<{ id: string }>('/v1/accounts', {
      email: EMAIL,
      imap: { host: proxy.host, port: proxy.port, tls: true },
      auth: { type: 'password', username: LOGIN.user, password: LOGIN.password },
    });
    assert.equal(linked.status, 201, JSON.stringify(linked.body));
    const accountId = linked.body.id;
    await eventually(
      async () => assert.equal((await client.get<{ status: string }>(`/v1/accounts/${accountId}`)).body.status, 'idle'),
      {
        timeoutMs: 15_000,
      },
    );
    assert.equal((await client.post('/v1/link-sessions', {})).status, 201);

    const msg = makeMessage();
    await p.dovecot.deliver(LOGIN.user, msg);
    await eventually(() => assert.ok(p.apns.delivered().some((r) => r.token === iosToken)), { timeoutMs: 15_000 });
    await p.quiescent();

    // A delivery still queued for later, and one that gave up: both are the user's too.
    const deliveries = new Queue<DeliveryJob, unknown, JobName.Deliver>(QueueName.Deliveries, {
      connection: raw,
      prefix: 'mailpush',
    });
    const event = makeMailEvent(userId, { accountId });
    await deliveries.add(
      JobName.Deliver,
      { event, deviceId: ios.body.id },
      {
        ...dedupJobOptions(deliveryJobId(event, ios.body.id)),
        delay: 3600_000,
      },
    );
    await new DeadLetterRepository(raw).add({
      jobName: JobName.Deliver,
      data: { event: { ...event, uid: event.uid + 1 }, deviceId: android.body.id },
      jobId: deliveryJobId({ ...event, uid: event.uid + 1 }, android.body.id),
      userId,
      deviceId: android.body.id,
      platform: 'android',
      error: { errorClass: ErrorClass.Transient, code: 'unavailable', message: 'FCM unavailable' },
      attempts: 8,
      failedAt: new Date().toISOString(),
    });
    await deliveries.close();
    assert.equal(proxy.open().length, 1, 'the worker holds the mailbox open');

    const needles = [
      userId,
      accountId,
      ios.body.id,
      android.body.id,
      iosToken,
      fcmToken,
      sha256Hex(iosToken),
      sha256Hex(fcmToken),
      EMAIL,
    ];
    assert.ok(keysHolding(await dumpRedis(raw), needles).length > 0, 'the search finds the user before erasure');

    const erased = await p.admin.delete(`/v1/users/${userId}`);
    assert.equal(erased.status, 204, JSON.stringify(erased.body));
    assert.equal((await client.get('/v1/devices')).status, 401);
    await eventually(() => assert.equal(proxy.open().length, 0, 'watcher disconnected'), { timeoutMs: 5_000 });

    const left = keysHolding(await dumpRedis(raw), needles);
    assert.deepEqual(left, [], 'nothing of the user is left in Redis');
    assert.equal((await p.admin.delete(`/v1/users/${userId}`)).status, 404);

    // A watcher that was mid-fetch enqueues after erasure: the fan-out skips it, nothing is
    // delivered, and the job goes with its content and its dedup key.
    const pushedBefore = p.apns.delivered().length + p.fcm.delivered().length;
    const late = makeMailEvent(userId, { accountId });
    const connection = new Redis(p.redis.url, { maxRetriesPerRequest: null });
    // As the worker's producer adds it (its job defaults remove a finished job).
    const events = new Queue<MailEvent, unknown, JobName.NewMail>(QueueName.MailEvents, {
      connection,
      prefix: 'mailpush',
      defaultJobOptions: JOB_DEFAULTS[QueueName.MailEvents],
    });
    await events.add(JobName.NewMail, late, dedupJobOptions(late.messageKey));
    await events.close();
    await connection.quit();
    await eventually(
      async () => {
        assert.equal(
          await raw.exists(`mailpush:${QueueName.MailEvents}:${late.messageKey}`),
          0,
          'the late job is gone',
        );
        assert.equal(
          await raw.exists(`mailpush:${QueueName.MailEvents}:de:${late.messageKey}`),
          0,
          'its dedup key too',
        );
      },
      { timeoutMs: 15_000 },
    );
    await p.quiescent();
    assert.equal(p.apns.delivered().length + p.fcm.delivered().length, pushedBefore, 'nothing delivered');
    const kept = await bystander.client.get<{ devices: { id: string }[] }>('/v1/devices');
    assert.deepEqual(
      kept.body.devices.map((d) => d.id),
      [bystanderDevice.body.id],
      'another user is untouched',
    );
  });
});
