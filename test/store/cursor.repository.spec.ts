import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CursorRepository, LeaseRepository, RedisKeys, type Lease } from '@mailpush/store';
import { useRealRedis } from './redis.fixture';

const TTL = 30_000;

describe('CursorRepository on a real Redis: cursor writes fenced by the slot lease', () => {
  const redis = useRealRedis();
  const cursors = () => new CursorRepository(redis.client);
  const leases = () => new LeaseRepository(redis.client);

  /** An account record (the cursor scripts check it exists), its cursor, and its slot's lease. */
  async function watched(accountId: string, cursor = { uidValidity: 7, lastUid: 10 }): Promise<Lease> {
    await redis.client.hset(RedisKeys.account(accountId), { id: accountId });
    await redis.client.hset(RedisKeys.cursor(accountId), {
      uidValidity: cursor.uidValidity,
      lastUid: cursor.lastUid,
    });
    const lease = await leases().acquire(accountId, 'w1', TTL);
    assert.ok(lease);
    return lease;
  }

  it('moves forward within a UIDVALIDITY, never back', async () => {
    const lease = await watched('acc_fwd');
    assert.equal(await cursors().advance(lease, { uidValidity: 7, lastUid: 12 }), 'advanced');
    assert.equal(await cursors().advance(lease, { uidValidity: 7, lastUid: 11 }), 'unchanged');
    assert.equal(await cursors().advance(lease, { uidValidity: 7, lastUid: 12 }), 'unchanged');
    assert.deepEqual(await cursors().get('acc_fwd'), { uidValidity: 7, lastUid: 12 });
  });

  it('moves to a new UIDVALIDITY, even to a lower UID', async () => {
    const lease = await watched('acc_uv');
    assert.equal(await cursors().advance(lease, { uidValidity: 8, lastUid: 3 }), 'advanced');
    assert.deepEqual(await cursors().get('acc_uv'), { uidValidity: 8, lastUid: 3 });
  });

  it('refuses a stale holder once the slot changed hands (fencing), and an expired lease', async () => {
    const stale = await watched('acc_stale');
    await leases().release(stale);
    const fresh = await leases().acquire('acc_stale', 'w2', TTL);
    assert.ok(fresh && fresh.fence > stale.fence);
    assert.equal(await cursors().advance(stale, { uidValidity: 7, lastUid: 50 }), 'lease_lost');
    assert.equal(await cursors().reserveSummary(stale, summary()), 'lease_lost');
    assert.deepEqual(await cursors().get('acc_stale'), { uidValidity: 7, lastUid: 10 });
    await redis.client.del(RedisKeys.lease('acc_stale'));
    assert.equal(await cursors().advance(fresh, { uidValidity: 7, lastUid: 50 }), 'lease_lost');
  });

  it('never writes (nor recreates) the cursor of an account that is gone', async () => {
    const lease = await watched('acc_gone');
    await redis.client.del(RedisKeys.account('acc_gone'), RedisKeys.cursor('acc_gone'));
    assert.equal(await cursors().advance(lease, { uidValidity: 7, lastUid: 11 }), 'account_gone');
    assert.equal(await cursors().reserveSummary(lease, summary()), 'account_gone');
    assert.equal(await redis.client.exists(RedisKeys.cursor('acc_gone')), 0);
  });

  it('keeps a reserved summary until the cursor moves past what it covers', async () => {
    const lease = await watched('acc_sum');
    const pending = summary();
    assert.equal(await cursors().reserveSummary(lease, pending), 'advanced');
    assert.equal(await cursors().advance(lease, { uidValidity: 7, lastUid: 15 }), 'advanced');
    assert.deepEqual(await cursors().get('acc_sum'), { uidValidity: 7, lastUid: 15, pendingSummary: pending });
    assert.equal(await cursors().advance(lease, { uidValidity: 7, lastUid: 20 }), 'advanced');
    assert.deepEqual(await cursors().get('acc_sum'), { uidValidity: 7, lastUid: 20 });
  });

  it('drops a reserved summary when the UIDVALIDITY changes', async () => {
    const lease = await watched('acc_sum_uv');
    await cursors().reserveSummary(lease, summary());
    assert.equal(await cursors().advance(lease, { uidValidity: 9, lastUid: 1 }), 'advanced');
    assert.deepEqual(await cursors().get('acc_sum_uv'), { uidValidity: 9, lastUid: 1 });
  });
});

function summary() {
  return { uidValidity: 7, firstUid: 11, lastUid: 19, count: 9, coversUpTo: 20 };
}
