import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { takeConnectTokens } from '../../apps/worker/src/fleet-connect-pacer';
import { RedisKeys } from '@mailpush/store';
import { eventually } from '../harness';
import { useRealRedis } from '../store/redis.fixture';

describe('the fleet-wide connect bucket on a real Redis: its script at the bounds', () => {
  const redis = useRealRedis();

  it('starts full: gives up to `burst` tokens at once, then none, with the wait for the next', async () => {
    const bucket = { rate: 2, burst: 3 };
    assert.deepEqual(await takeConnectTokens(redis.client, 'host-a', { ...bucket, want: 2 }), {
      granted: 2,
      waitMs: 0,
    });
    const short = await takeConnectTokens(redis.client, 'host-a', { ...bucket, want: 5 });
    assert.equal(short.granted, 1);
    assert.ok(short.waitMs > 0 && short.waitMs <= 500, `wait ${short.waitMs} ms at 2/s`);
    const empty = await takeConnectTokens(redis.client, 'host-a', { ...bucket, want: 1 });
    assert.equal(empty.granted, 0);
    assert.ok(empty.waitMs > 0 && empty.waitMs <= 500);
  });

  it('refills by the server clock, never beyond `burst`', async () => {
    const bucket = { rate: 100, burst: 2 };
    await takeConnectTokens(redis.client, 'host-b', { ...bucket, want: 2 });
    await eventually(async () => {
      const got = await takeConnectTokens(redis.client, 'host-b', { ...bucket, want: 0 });
      assert.equal(got.granted, 0);
      const state = await redis.client.hget(RedisKeys.connectBucket('host-b'), 't');
      assert.equal(Number(state), 2, 'full again, and no fuller');
    });
    assert.deepEqual(await takeConnectTokens(redis.client, 'host-b', { ...bucket, want: 5 }), {
      granted: 2,
      waitMs: 10,
    });
  });

  it('lets the bucket of an idle host expire', async () => {
    await takeConnectTokens(redis.client, 'host-c', { rate: 10, burst: 1, want: 1 });
    const pttl = await redis.client.pttl(RedisKeys.connectBucket('host-c'));
    assert.ok(pttl > 0 && pttl <= 1100, `pttl ${pttl}`);
  });
});
