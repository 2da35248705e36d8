import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LeaseRepository, RedisKeys, slotOf } from '@mailpush/store';
import { eventually } from '../harness';
import { useRealRedis } from './redis.fixture';

const TTL = 30_000;

describe('LeaseRepository on a real Redis: slot leases under fencing tokens', () => {
  const redis = useRealRedis();
  const leases = () => new LeaseRepository(redis.client);

  it('takes a free slot under fence 1, with the TTL asked for', async () => {
    const got = await leases().acquireSlot(7, 'w1', TTL);
    assert.deepEqual(got, { acquired: true, lease: { slot: 7, holder: 'w1#1', fence: 1 } });
    const pttl = await redis.client.pttl(RedisKeys.slotLease(7));
    assert.ok(pttl > TTL - 1000 && pttl <= TTL, `pttl ${pttl}`);
  });

  it('refuses a held slot and names its holder and time left', async () => {
    await leases().acquireSlot(7, 'w1', TTL);
    const got = await leases().acquireSlot(7, 'w2', TTL);
    assert.equal(got.acquired, false);
    assert.ok(!got.acquired);
    assert.equal(got.holder, 'w1#1');
    assert.ok(got.ttlMs > TTL - 1000 && got.ttlMs <= TTL, `ttl ${got.ttlMs}`);
    assert.equal(await redis.client.get(RedisKeys.slotFence(7)), '1', 'a refused acquisition spends no fence');
  });

  it('grows the fence on every acquisition, across holders and releases', async () => {
    const first = await leases().acquireSlot(3, 'w1', TTL);
    assert.ok(first.acquired);
    await leases().releaseSlot(first.lease);
    const second = await leases().acquireSlot(3, 'w2', TTL);
    assert.ok(second.acquired);
    assert.equal(second.lease.fence, 2);
    assert.equal(second.lease.holder, 'w2#2');
  });

  it('hands an expired lease to the next worker under a higher fence', async () => {
    const first = await leases().acquireSlot(5, 'w1', 50);
    assert.ok(first.acquired);
    const second = await eventually(async () => {
      const got = await leases().acquireSlot(5, 'w2', TTL);
      assert.ok(got.acquired, 'the expired lease is free again');
      return got.lease;
    });
    assert.deepEqual(second, { slot: 5, holder: 'w2#2', fence: 2 });
  });

  it('renews only for the holder it names: a stale holder neither renews nor shortens the new one', async () => {
    const stale = await leases().acquireSlot(9, 'w1', TTL);
    assert.ok(stale.acquired);
    await redis.client.del(RedisKeys.slotLease(9));
    const fresh = await leases().acquireSlot(9, 'w2', TTL);
    assert.ok(fresh.acquired);
    assert.equal(await leases().renew(stale.lease, 100), false);
    assert.ok((await redis.client.pttl(RedisKeys.slotLease(9))) > 1000, 'the stale renew left the TTL alone');
    assert.equal(await leases().renew(fresh.lease, 2 * TTL), true);
    assert.ok((await redis.client.pttl(RedisKeys.slotLease(9))) > TTL);
  });

  it('does not renew (nor recreate) a lease that expired', async () => {
    const got = await leases().acquireSlot(11, 'w1', TTL);
    assert.ok(got.acquired);
    await redis.client.del(RedisKeys.slotLease(11));
    assert.equal(await leases().renew(got.lease, TTL), false);
    assert.equal(await redis.client.exists(RedisKeys.slotLease(11)), 0);
  });

  it('renews many slots in one call, answering for each in order', async () => {
    const held = await leases().acquireSlot(1, 'w1', TTL);
    const lost = await leases().acquireSlot(2, 'w1', TTL);
    const other = await leases().acquireSlot(3, 'w2', TTL);
    assert.ok(held.acquired && lost.acquired && other.acquired);
    await redis.client.del(RedisKeys.slotLease(2));
    const answers = await leases().renewSlots(
      [held.lease, lost.lease, { ...other.lease, holder: 'w1#3' }, { slot: 4, holder: 'w1#9', fence: 9 }],
      TTL,
    );
    assert.deepEqual(answers, [true, false, false, false]);
    assert.deepEqual(await leases().renewSlots([], TTL), []);
  });

  it('releases only for its holder', async () => {
    const got = await leases().acquireSlot(13, 'w1', TTL);
    assert.ok(got.acquired);
    await leases().releaseSlot({ ...got.lease, holder: 'w2#1' });
    assert.equal(await leases().slotHolder(13), 'w1#1');
    await leases().releaseSlot(got.lease);
    assert.equal(await leases().slotHolder(13), null);
    await leases().releaseSlot(got.lease);
  });

  it("takes an account's slot and tells whether it is held", async () => {
    const lease = await leases().acquire('acc_one', 'w1', TTL);
    assert.deepEqual(lease, { slot: slotOf('acc_one'), holder: 'w1#1', fence: 1, accountId: 'acc_one' });
    assert.equal(await leases().isHeld('acc_one'), true);
    assert.equal(await leases().acquire('acc_one', 'w2', TTL), null);
    assert.ok(lease);
    await leases().release(lease);
    assert.equal(await leases().isHeld('acc_one'), false);
  });
});
