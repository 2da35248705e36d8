import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { rankedSlotOwner } from '../../apps/worker/src/account-ranking';
import { configureLogging } from '@mailpush/logging';
import { AccountRepository, CursorRepository, RedisKeys, SLOT_COUNT, UserRepository, slotOf } from '@mailpush/store';
import { eventually, startFaultProxy, startRedis, type FaultProxy, type RedisHandle } from '../harness';
import {
  seedAccounts,
  startMember,
  testConfig,
  watchers,
  type FleetMember,
  type FleetSettings,
} from '../support/slot-fleet';

/** Short enough for a quick spec, long enough for a loaded 2-core machine to renew in time. */
const TTL_MS = 4_000;
/** A crashed worker's accounts are watched again within TTL + a heartbeat + this much. */
const TAKEOVER_SLACK_MS = 3_000;

/** Slot ownership with in-process workers on a real Redis; IMAP replaced by a stand-in. */
describe('slot ownership', { timeout: 120_000 }, () => {
  let redis: RedisHandle;
  let raw: Redis;
  let members: FleetMember[] = [];

  before(async () => {
    configureLogging({ level: 'error' });
    redis = await startRedis();
    raw = new Redis(redis.url);
  });

  afterEach(async () => {
    await Promise.all(members.map((m) => m.stop()));
    members = [];
    await raw.flushall();
  });

  after(async () => {
    await raw?.quit();
    await redis?.stop();
  });

  const start = async (id: string, settings: FleetSettings = { leaseTtlMs: TTL_MS }) => {
    const m = await startMember(redis.url, id, settings);
    members.push(m);
    return m;
  };

  async function holders(): Promise<(string | undefined)[]> {
    const pipeline = raw.pipeline();
    for (let slot = 0; slot < SLOT_COUNT; slot++) pipeline.get(RedisKeys.slotLease(slot));
    return ((await pipeline.exec()) ?? []).map(([, v]) => (typeof v === 'string' ? v.split('#')[0] : undefined));
  }

  /** Slots whose holder differs from `expected` (an assert diff of 4,096 entries would stall the event loop). */
  async function assertHolders(expected: readonly (string | undefined)[]): Promise<void> {
    const actual = await holders();
    const wrong = expected.map((e, s) => (actual[s] === e ? -1 : s)).filter((s) => s >= 0);
    assert.equal(wrong.length, 0, `slots held by another than expected, e.g. ${wrong.slice(0, 5).join(', ')}`);
  }

  const ranking = (workers: string[]) => Array.from({ length: SLOT_COUNT }, (_, s) => rankedSlotOwner(s, workers));

  function assertNoneTwice(): void {
    for (const [id, by] of watchers(members)) assert.equal(by.length, 1, `${id} watched by ${by.join(', ')}`);
  }

  it('ranks every slot to one live worker, and each account is watched by its slot’s owner alone', async () => {
    const ids = await seedAccounts(raw, 3_000);
    await Promise.all(['w1', 'w2', 'w3'].map((id) => start(id)));
    await eventually(
      async () => {
        await assertHolders(ranking(['w1', 'w2', 'w3']));
        assert.equal(watchers(members).size, ids.length);
      },
      { timeoutMs: 20_000 },
    );
    assertNoneTwice();
    for (const m of members) {
      for (const id of m.host.watching.keys()) assert.equal(rankedSlotOwner(slotOf(id), ['w1', 'w2', 'w3']), m.id);
      for (const lease of m.host.watching.values()) assert.ok(m.ownership.holds(lease));
    }
  });

  it('moves about 1/N of the slots to a joining worker and gives them back when it leaves, never watching twice', async () => {
    const ids = await seedAccounts(raw, 2_000);
    // A long TTL: a leave noticed only by lease expiry would take at least this long.
    const settings = { leaseTtlMs: 12_000 };
    await Promise.all(['w1', 'w2', 'w3'].map((id) => start(id, settings)));
    await eventually(() => assert.equal(watchers(members).size, ids.length), { timeoutMs: 20_000 });
    const before = await holders();
    const sampler = setInterval(() => assertNoneTwice(), 5);
    try {
      const w4 = await start('w4', settings);
      await eventually(() => assertHolders(ranking(['w1', 'w2', 'w3', 'w4'])), { timeoutMs: 20_000 });
      const after = await holders();
      const moved = after.filter((h, s) => h !== before[s]);
      assert.ok(
        moved.every((h) => h === 'w4'),
        'only the newcomer gains slots',
      );
      assert.ok(moved.length <= 1.2 * (SLOT_COUNT / 4), `moved ${moved.length} of ${SLOT_COUNT}`);
      await eventually(() => assert.equal(watchers(members).size, ids.length), { timeoutMs: 10_000 });

      const leftAt = Date.now();
      await w4.stop();
      members = members.filter((m) => m !== w4);
      await eventually(
        async () => {
          await assertHolders(before);
          assert.equal(watchers(members).size, ids.length);
        },
        { timeoutMs: 10_000 },
      );
      // A graceful leave is announced: the survivors take its slots at once, not after a TTL.
      assert.ok(Date.now() - leftAt < settings.leaseTtlMs, `took ${Date.now() - leftAt} ms`);
    } finally {
      clearInterval(sampler);
    }
    assertNoneTwice();
  });

  it('takes a crashed worker’s slots within the lease TTL and a heartbeat', async () => {
    const ids = await seedAccounts(raw, 1_000);
    const [, w2] = await Promise.all(['w1', 'w2'].map((id) => start(id)));
    await eventually(() => assert.equal(watchers(members).size, ids.length), { timeoutMs: 20_000 });
    const crashedAt = Date.now();
    await w2!.crash();
    members = members.filter((m) => m !== w2);
    await eventually(() => assert.equal(members[0]!.host.watching.size, ids.length), { timeoutMs: 2 * TTL_MS + 2_000 });
    const took = Date.now() - crashedAt;
    assert.ok(took <= TTL_MS + TAKEOVER_SLACK_MS, `all accounts watched again after ${took} ms`);
  });

  it('hears of a new or deleted account in its slots at once', async () => {
    const w1 = await start('w1');
    await eventually(() => assert.ok(w1.ownership.ready()));
    const accounts = new AccountRepository(raw, testConfig(redis.url));
    const { user } = await new UserRepository(raw).create();
    const account = await accounts.create(
      user.id,
      {
        email: 'a@example.test',
        imap: { host: 'imap.example.test', port: 993, tls: true },
        username: 'a',
        password: 'pw',
      },
      { uidValidity: 1, lastUid: 0 },
    );
    await eventually(() => assert.ok(w1.host.watching.has(account.id)), { timeoutMs: 1_000 });
    await accounts.setEnabled(user.id, account.id, false);
    await eventually(() => assert.ok(!w1.host.watching.has(account.id)), { timeoutMs: 1_000 });
    await accounts.setEnabled(user.id, account.id, true);
    await eventually(() => assert.ok(w1.host.watching.has(account.id)), { timeoutMs: 1_000 });
    assert.ok(await accounts.remove(user.id, account.id));
    await eventually(() => assert.ok(!w1.host.watching.has(account.id)), { timeoutMs: 1_000 });
  });

  it('finds a change it was not told about at its next reconcile (versions)', async () => {
    const w1 = await start('w1', { leaseTtlMs: TTL_MS, reconcileMs: 300 });
    await eventually(() => assert.ok(w1.ownership.ready()));
    // Written without the notification a real change publishes: only the version moves.
    const [id] = await seedAccounts(raw, 1);
    await raw.incr(RedisKeys.slotVersion(slotOf(id!)));
    // Far sooner than the next notification would come (none will): the 300 ms reconcile found it.
    await eventually(() => assert.ok(w1.host.watching.has(id!)), { timeoutMs: 10_000 });
  });

  it('keeps its accounts through a Redis outage shorter than the lease margin allows, and only then lets go', async () => {
    const ttl = 6_000;
    const proxy: FaultProxy = await startFaultProxy({ targetPort: redis.port });
    try {
      const ids = await seedAccounts(raw, 500);
      const w1 = await startMember(
        redis.url,
        'w1',
        { leaseTtlMs: ttl, leaseMarginMs: 1_000 },
        () => new Redis(proxy.port, '127.0.0.1', { enableAutoPipelining: true, maxRetriesPerRequest: 1 }),
      );
      members.push(w1);
      await eventually(() => assert.equal(w1.host.watching.size, ids.length), { timeoutMs: 20_000 });

      // Short: 2 s without Redis, well inside TTL - margin - one renewal period (3 s).
      proxy.refuse(true);
      proxy.reset();
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      assert.equal(w1.host.released.length, 0, 'nothing let go during a short outage');
      proxy.refuse(false);
      await eventually(async () => assert.equal(await w1.redis.ping(), 'PONG'), { timeoutMs: 5_000 });
      await new Promise((resolve) => setTimeout(resolve, ttl / 3 + 500));
      assert.equal(w1.host.released.length, 0, 'renewed after the outage, nothing moved');
      assert.equal(w1.host.watching.size, ids.length);

      // Long: the leases can no longer be proven, so the connections stop before anyone could take them.
      const cutAt = Date.now();
      proxy.refuse(true);
      proxy.reset();
      await eventually(() => assert.equal(w1.host.watching.size, 0), { timeoutMs: ttl + 2_000 });
      assert.ok(Date.now() - cutAt < ttl, 'stopped before the leases ran out in Redis');
      assert.ok(w1.host.released.every((r) => r.reason === 'expired'));
      proxy.refuse(false);
      await eventually(() => assert.equal(w1.host.watching.size, ids.length), { timeoutMs: 2 * ttl + 5_000 });
    } finally {
      await proxy.close();
    }
  });

  it('moves accounts stored before slots into their slots, cursors included', async () => {
    const config = testConfig(redis.url);
    const accounts = new AccountRepository(raw, config);
    const id = 'acc_00000000000000000000legacy';
    await raw.hset(RedisKeys.legacyAccount(id), { id, userId: 'usr_x', email: 'x@example.test', status: 'idle' });
    await raw.hset(RedisKeys.legacyCursor(id), { uidValidity: '7', lastUid: '42' });
    await raw.sadd(RedisKeys.allAccounts(), id);
    assert.equal(await accounts.migrateToSlot(id), 'moved');
    assert.equal(await accounts.migrateToSlot(id), 'current');
    assert.deepEqual(await new CursorRepository(raw).get(id), { uidValidity: 7, lastUid: 42 });
    assert.equal(await raw.hget(RedisKeys.account(id), 'email'), 'x@example.test');
    assert.equal(await raw.exists(RedisKeys.legacyAccount(id), RedisKeys.legacyCursor(id)), 0);
    assert.equal(await raw.sismember(RedisKeys.slotAccounts(slotOf(id)), id), 1);
    const w1 = await start('w1');
    await eventually(() => assert.ok(w1.host.watching.has(id)));
  });
});
