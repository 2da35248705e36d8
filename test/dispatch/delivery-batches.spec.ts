import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { DeliveryMarks } from '@mailpush/delivery';
import { deliveryJobId } from '@mailpush/queue';
import { eventually, startRedis, type RedisHandle } from '../harness';
import { makeApnsToken } from '../support/factories';
import { makeMailEvent, startDispatchRig, type DispatchRig } from './dispatch.fixture';

const iosDevice = (token: string) => ({
  platform: 'ios' as const,
  token,
  environment: 'sandbox' as const,
  privacy: 'full' as const,
});

describe('delivery batches: one job for a message’s devices, each device exactly once', { timeout: 90_000 }, () => {
  let rig: DispatchRig;

  before(async () => {
    rig = await startDispatchRig({ api: true, env: { MAILPUSH_DELIVERY_ATTEMPTS: '2' } });
  });

  after(async () => {
    await rig?.stop();
  });

  const requestsFor = (token: string) => rig.apns.requests.filter((r) => r.token === token);
  const deliveredTo = (token: string) => rig.apns.delivered().filter((r) => r.token === token);

  it('retries only the device that failed; the others are not sent again', async () => {
    const tokens = [makeApnsToken(), makeApnsToken(), makeApnsToken()];
    const [ok1, flaky, ok2] = tokens as [string, string, string];
    rig.apns.queueResponses(flaky, [{ status: 503, reason: 'ServiceUnavailable' }]);
    const { userId } = await rig.makeUser(tokens.map(iosDevice));
    await rig.enqueue([makeMailEvent(userId)]);

    await eventually(
      () =>
        assert.deepEqual(
          tokens.map((t) => deliveredTo(t).length),
          [1, 1, 1],
        ),
      {
        timeoutMs: 20_000,
      },
    );
    await rig.quiescent();
    assert.equal(requestsFor(ok1).length, 1, 'a delivered device is not sent again when its batch retries');
    assert.equal(requestsFor(ok2).length, 1, 'a delivered device is not sent again when its batch retries');
    assert.ok(
      requestsFor(flaky).some((r) => r.status === 503),
      'the failure was answered',
    );
    assert.equal(deliveredTo(flaky).length, 1);
  });

  it('leaves one dead letter for the device that exhausted its attempts, replayed alone', async () => {
    const good = makeApnsToken();
    const bad = makeApnsToken();
    rig.apns.queueResponses(bad, [
      { status: 500, reason: 'InternalServerError' },
      { status: 500, reason: 'InternalServerError' },
    ]);
    const { userId, devices } = await rig.makeUser([iosDevice(good), iosDevice(bad)]);
    const badDevice = devices.find((d) => d.token === bad);
    assert.ok(badDevice);
    const event = makeMailEvent(userId);
    await rig.enqueue([event]);

    type Letter = { id: string; jobId: string; deviceId: string; messageKey: string; attempts: number };
    const letters = await eventually(
      async () => {
        const res = await rig.admin.get<{ deadLetters: Letter[] }>('/v1/admin/dead-letters');
        const mine = res.body.deadLetters.filter((d) => d.messageKey === event.messageKey);
        assert.equal(mine.length, 1, 'no dead letter yet');
        return mine;
      },
      { timeoutMs: 20_000 },
    );
    const [letter] = letters as [Letter];
    assert.deepEqual(
      [letter.deviceId, letter.jobId, letter.attempts],
      [badDevice.id, deliveryJobId(event, badDevice.id), 2],
    );
    assert.equal(deliveredTo(good).length, 1);
    assert.equal(deliveredTo(bad).length, 0);

    const replay = await rig.admin.post<{ status: string }>(`/v1/admin/dead-letters/${letter.id}/replay`, {});
    assert.equal(replay.status, 202, JSON.stringify(replay.body));
    await eventually(() => assert.equal(deliveredTo(bad).length, 1));
    await rig.quiescent();
    assert.equal(deliveredTo(bad).length, 1);
    assert.equal(requestsFor(good).length, 1, 'the replay sends to its own device only');
  });

  it('notifies each of 120 devices (two batches) once', async () => {
    const tokens = Array.from({ length: 120 }, () => makeApnsToken());
    const { userId } = await rig.makeUser(tokens.map(iosDevice));
    const event = makeMailEvent(userId);
    await rig.enqueue([event]);
    await eventually(() => assert.equal(tokens.filter((t) => deliveredTo(t).length === 1).length, tokens.length), {
      timeoutMs: 20_000,
    });
    await rig.quiescent();
    assert.deepEqual(
      tokens.filter((t) => requestsFor(t).length !== 1),
      [],
      'every device exactly one request',
    );
  });
});

describe('delivery marks', { timeout: 30_000 }, () => {
  let redis: RedisHandle;
  let client: Redis;
  let marks: DeliveryMarks;

  before(async () => {
    redis = await startRedis();
    client = new Redis(redis.url);
    marks = new DeliveryMarks(client);
  });

  after(async () => {
    await client?.quit();
    await redis?.stop();
  });

  it('lets one job claim a device; its own retry may claim it again, another job may not', async () => {
    assert.deepEqual(await marks.claim('m1', ['d1', 'd2'], 'job-a'), ['d1', 'd2']);
    assert.deepEqual(await marks.claim('m1', ['d2', 'd3'], 'job-b'), ['d3'], 'd2 belongs to job-a');
    assert.deepEqual(await marks.claim('m1', ['d1', 'd2'], 'job-a'), ['d1', 'd2'], 'a crashed run of job-a resumes');
    assert.deepEqual(await marks.claim('m2', ['d1'], 'job-b'), ['d1'], 'marks are per message');
  });

  it('never hands out a settled device again; a released one goes to the next claim', async () => {
    await marks.claim('m3', ['d1', 'd2'], 'job-a');
    await marks.settle('m3', 'd1', 'delivered');
    await marks.release('m3', 'd2');
    assert.deepEqual(await marks.claim('m3', ['d1', 'd2'], 'job-a'), ['d2']);
    assert.deepEqual(await marks.claim('m3', ['d1'], 'replay'), []);
    assert.deepEqual([...(await marks.settled('m3', ['d1', 'd2', 'd3']))], ['d1']);
  });
});
