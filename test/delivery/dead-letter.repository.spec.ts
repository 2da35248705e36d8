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

  it('reads back what it wrote, field for field', async () => {
    const letter = await letters().add(makeDeadLetter('usr_a'));
    assert.deepEqual(await letters().find(letter.id), letter);
  });

  it('lists only entries of the shape it writes, skipping the rest', async () => {
    const good = await letters().add(makeDeadLetter('usr_a'));
    const unreadable = [
      'not json',
      'null',
      '42',
      JSON.stringify({ id: 'dl_x', jobId: 'j' }),
      JSON.stringify({ ...good, id: undefined }),
      JSON.stringify({ ...good, id: 'dl_badjob', jobName: 'mail.new' }),
      JSON.stringify({ ...good, id: 'dl_baddata', data: { deviceId: 'dev_1' } }),
      JSON.stringify({ ...good, id: 'dl_badclass', error: { ...good.error, errorClass: 'fatal' } }),
      JSON.stringify({ ...good, id: 'dl_badattempts', attempts: '8' }),
    ];
    for (const raw of unreadable) await redis.client.lpush(RedisKeys.deadLetters(), raw);
    assert.deepEqual(
      (await letters().list()).map((d) => d.id),
      [good.id],
    );
    assert.equal(await letters().find('dl_baddata'), undefined);
    assert.equal(await letters().count(), unreadable.length + 1, 'skipped, never dropped');
  });

  it('keeps a letter whose code predates the error vocabulary, as unknown_error', async () => {
    const good = await letters().add(makeDeadLetter('usr_a'));
    const old = { ...good, id: 'dl_old', error: { ...good.error, code: 'dns_failed' } };
    await redis.client.lpush(RedisKeys.deadLetters(), JSON.stringify(old));
    assert.equal((await letters().find('dl_old'))?.error.code, 'unknown_error');
    assert.equal((await letters().find(good.id))?.error.code, 'unavailable');
  });

  it("erases every entry naming the user, unreadable ones included, and no one else's", async () => {
    const other = await letters().add(makeDeadLetter('usr_b'));
    await letters().add(makeDeadLetter('usr_a'));
    await redis.client.lpush(RedisKeys.deadLetters(), JSON.stringify({ userId: 'usr_a', data: 'garbled' }));
    await redis.client.lpush(RedisKeys.deadLetters(), 'not json');
    assert.equal(await letters().removeForUser('usr_a'), 2);
    assert.deepEqual(
      (await letters().list()).map((d) => d.id),
      [other.id],
    );
    assert.equal(await letters().count(), 2);
  });

  it('answers false on an empty list', async () => {
    assert.equal(await letters().remove('dl_missing'), false);
  });
});
