import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfig, type AppConfig } from '@mailpush/config';
import { BurstBudget, DeadLetterRepository } from '@mailpush/delivery';
import { ErrorClass } from '@mailpush/errors';
import { RedisApnsTokenBackend } from '@mailpush/push';
import { JobName, deliveryJobId } from '@mailpush/queue';
import {
  AccountRepository,
  CursorRepository,
  DeviceRepository,
  LeaseRepository,
  LinkSessionRepository,
  MasterKeyCanary,
  OAuthRefreshLockRepository,
  RedisKeys,
  UserRepository,
  createRedisConnection,
  isCluster,
  sha256Hex,
  type Redis,
} from '@mailpush/store';
import { makeMailEvent } from '../dispatch/dispatch.fixture';
import { startCluster, type ClusterHandle } from '../harness';
import { makeAdminToken, makeApnsToken, makeMasterKey } from '../support/factories';

const ACCOUNTS = 12;
const TTL = 30_000;

/**
 * Every script on a real three-primary Redis Cluster: a script whose keys do not share a hash tag
 * fails there with CROSSSLOT, and a script sent by SHA to a node that never saw it must still run.
 */
describe('Redis scripts on a real Redis Cluster', { timeout: 120_000 }, () => {
  let cluster: ClusterHandle;
  let redis: Redis;
  let config: AppConfig;

  before(async () => {
    cluster = await startCluster();
    config = loadConfig({
      REDIS_CLUSTER_NODES: cluster.nodeList,
      MAILPUSH_MASTER_KEY: makeMasterKey(),
      MAILPUSH_ADMIN_TOKEN: makeAdminToken(),
    });
    redis = createRedisConnection(config.redis, 'commands');
    assert.equal(isCluster(redis), true);
  });

  after(async () => {
    await redis?.quit();
    await cluster?.stop();
  });

  it('runs the account, lease and cursor scripts for accounts spread over every primary', async () => {
    const accounts = new AccountRepository(redis, config);
    const leases = new LeaseRepository(redis);
    const cursors = new CursorRepository(redis);
    const links = new LinkSessionRepository(redis);
    const { user } = await new UserRepository(redis).create();
    const ids: string[] = [];
    for (let i = 0; i < ACCOUNTS; i++) {
      const account = await accounts.create(
        user.id,
        {
          email: `p${i}@example.com`,
          imap: { host: 'imap.example.com', port: 993, tls: true },
          username: `p${i}`,
          password: 'pw',
        },
        { uidValidity: 1, lastUid: 1 },
      );
      ids.push(account.id);
    }
    for (const id of ids) {
      const lease = await leases.acquire(id, 'w1', TTL);
      assert.ok(lease, `lease of ${id}`);
      assert.equal(await cursors.advance(lease, { uidValidity: 1, lastUid: 5 }), 'advanced');
      assert.equal(
        await cursors.reserveSummary(lease, { uidValidity: 1, firstUid: 6, lastUid: 9, count: 4, coversUpTo: 9 }),
        'advanced',
      );
      assert.equal(await accounts.setStatus(id, { status: 'idle' }, 0), true);
      await accounts.touchLastEvent(id);
      assert.ok(await accounts.setEnabled(user.id, id, false));
      const { token } = await links.createScoped(user.id, id, 60_000);
      const replaced = await accounts.replaceCredentials(user.id, id, 'u', 'p', links.consumeKeys(sha256Hex(token)));
      assert.ok(replaced && replaced !== 'link_used');
      assert.equal(await accounts.resealCredentials(id), 'current');
      assert.deepEqual(await leases.renewSlots([lease], TTL), [true]);
      await leases.release(lease);
    }
    const held = await Promise.all(ids.map((id) => leases.acquire(id, 'w2', TTL)));
    assert.deepEqual(
      await leases.renewSlots(
        held.flatMap((l) => (l ? [l] : [])),
        TTL,
      ),
      held.flatMap((l) => (l ? [true] : [])),
    );
    for (const id of ids) assert.equal(await accounts.remove(user.id, id), true);
    const legacy = 'acc_legacy_cluster';
    await redis.hset(RedisKeys.legacyAccount(legacy), { id: legacy, userId: user.id });
    assert.equal(await accounts.migrateToSlot(legacy), 'moved');
  });

  it('runs the link session, user, device, lock, canary, burst, dead-letter and APNs scripts', async () => {
    const links = new LinkSessionRepository(redis);
    const users = new UserRepository(redis);
    const { user } = await users.create();
    for (let i = 0; i < 6; i++) {
      const { token } = await links.create(user.id, 60_000);
      assert.equal(await links.claim(token, 10_000), true);
      assert.equal(await links.recordRefusal(sha256Hex(token), 1), true);
      const burst = await new BurstBudget(redis, config).admit(`dev_${i}`, 'm1', 'acc_1');
      assert.equal(burst.notify, 'individually');
    }
    assert.ok(await users.rotateApiKey(user.id));
    const devices = new DeviceRepository(redis, config);
    await devices.upsert(user.id, { platform: 'ios', token: makeApnsToken(), privacy: 'full' });
    assert.deepEqual(await devices.resealTokens(), { resealed: 0, current: 1, failed: 0 });
    const locks = new OAuthRefreshLockRepository(redis);
    const lock = await locks.acquire('acc_1', 10_000);
    assert.ok(lock);
    await locks.release(lock);
    const canary = new MasterKeyCanary(redis, config);
    await canary.check();
    assert.equal(await canary.reseal(), 'current');
    const apns = new RedisApnsTokenBackend(redis, RedisKeys.apnsProviderToken('TEAM', 'KEY'));
    assert.equal(await apns.compareAndSet(null, 'jwt', 60_000), 'jwt');
    const letters = new DeadLetterRepository(redis);
    const event = makeMailEvent(user.id);
    const letter = await letters.add({
      jobName: JobName.Deliver,
      data: { event, deviceId: 'dev_1' },
      jobId: deliveryJobId(event, 'dev_1'),
      userId: user.id,
      deviceId: 'dev_1',
      error: { errorClass: ErrorClass.Transient, code: 'unavailable', message: 'unavailable' },
      attempts: 1,
      failedAt: new Date().toISOString(),
    });
    assert.equal(await letters.remove(letter.id), true);
  });
});
