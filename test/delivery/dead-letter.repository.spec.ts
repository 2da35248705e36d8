import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DeadLetterRepository, type NewDeadLetter } from '@mailpush/delivery';
import { ErrorClass } from '@mailpush/errors';
import { JobName, deliveryJobId } from '@mailpush/queue';
import { RedisKeys } from '@mailpush/store';
import { makeMailEvent } from '../dispatch/dispatch.fixture';
import { useRealRedis } from '../store/redis.fixture';

function makeDeadLetter(userId: string): NewDeadLetter {
  const event = makeMailEvent(userId);
  return {
    jobName: JobName.Deliver,
    data: { event, deviceId: 'dev_1' },
    jobId: deliveryJobId(event, 'dev_1'),
    userId,
    deviceId: 'dev_1',
    error: { errorClass: ErrorClass.Transient, code: 'unavailable', message: 'unavailable' },
    attempts: 8,
    failedAt: new Date().toISOString(),
  };
}

describe('DeadLetterRepository on a real Redis: removal by id', () => {
  const redis = useRealRedis();
  const letters = () => new DeadLetterRepository(redis.client);

  it('removes the one entry with the id, once, and skips entries it cannot read', async () => {
    const kept = await letters().add(makeDeadLetter('usr_a'));
    await redis.client.lpush(RedisKeys.deadLetters(), 'not json');
    const removed = await letters().add(makeDeadLetter('usr_a'));
    assert.equal(await letters().remove(removed.id), true);
    assert.equal(await letters().remove(removed.id), false);
    assert.deepEqual(
      (await letters().list()).map((d) => d.id),
      [kept.id],
    );
    assert.equal(await letters().count(), 2);
  });

  it('answers false on an empty list', async () => {
    assert.equal(await letters().remove('dl_missing'), false);
  });
});
