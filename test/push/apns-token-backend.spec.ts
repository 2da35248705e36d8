import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RedisApnsTokenBackend } from '@mailpush/push';
import { RedisKeys } from '@mailpush/store';
import { useRealRedis } from '../store/redis.fixture';

const HOUR = 3600_000;

describe('RedisApnsTokenBackend on a real Redis: the compare-and-set script', () => {
  const redis = useRealRedis();
  const key = RedisKeys.apnsProviderToken('TEAM123456', 'KEY1234567');
  const backend = () => new RedisApnsTokenBackend(redis.client, key);

  it('stores the first token when nothing is stored, with its TTL', async () => {
    assert.equal(await backend().compareAndSet(null, 'jwt-1', HOUR), 'jwt-1');
    const pttl = await redis.client.pttl(key);
    assert.ok(pttl > HOUR - 1000 && pttl <= HOUR, `pttl ${pttl}`);
  });

  it('replaces only the token that was read, and answers the stored one otherwise', async () => {
    await backend().compareAndSet(null, 'jwt-1', HOUR);
    assert.equal(await backend().compareAndSet(null, 'jwt-late', HOUR), 'jwt-1', 'another process minted first');
    assert.equal(await backend().compareAndSet('jwt-old', 'jwt-late', HOUR), 'jwt-1');
    assert.equal(await backend().compareAndSet('jwt-1', 'jwt-2', HOUR), 'jwt-2');
    assert.equal(await backend().get(), 'jwt-2');
  });

  it('answers null when the token read has expired and nothing replaced it', async () => {
    assert.equal(await backend().compareAndSet('jwt-expired', 'jwt-2', HOUR), null);
    assert.equal(await redis.client.exists(key), 0);
  });
});
