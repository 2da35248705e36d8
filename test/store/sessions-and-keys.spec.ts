import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '@mailpush/config';
import {
  DeviceRepository,
  LinkSessionRepository,
  MasterKeyCanary,
  OAuthRefreshLockRepository,
  QuotaExceededError,
  RedisKeys,
  UserRepository,
  sha256Hex,
} from '@mailpush/store';
import { makeAdminToken, makeApnsToken, makeMasterKey } from '../support/factories';
import { useRealRedis } from './redis.fixture';

describe('link sessions, users, devices and locks on a real Redis: their scripts', () => {
  const redis = useRealRedis();
  const links = () => new LinkSessionRepository(redis.client);
  const users = () => new UserRepository(redis.client);
  const masterKey = makeMasterKey();
  const config = (env: Record<string, string> = {}) =>
    loadConfig({
      REDIS_URL: redis.url,
      MAILPUSH_MASTER_KEY: masterKey,
      MAILPUSH_ADMIN_TOKEN: makeAdminToken(),
      ...env,
    });

  describe('link session claim', () => {
    it('is taken by one request at a time, and again once let go', async () => {
      const { token } = await links().create('usr_a', 60_000);
      assert.equal(await links().claim(token, 10_000), true);
      assert.equal(await links().claim(token, 10_000), false);
      await links().releaseClaim(token);
      assert.equal(await links().claim(token, 10_000), true);
    });

    it('is never taken for a session that ended or never was', async () => {
      const { token } = await links().create('usr_a', 60_000);
      await links().end(token);
      assert.equal(await links().claim(token, 10_000), false);
      assert.equal(await links().claim('mpl_unknown', 10_000), false);
      assert.equal(await redis.client.exists(RedisKeys.linkSessionClaim(sha256Hex('mpl_unknown'))), 0);
    });

    it('lapses by itself when its holder died', async () => {
      const { token } = await links().create('usr_a', 60_000);
      assert.equal(await links().claim(token, 10_000), true);
      const pttl = await redis.client.pttl(RedisKeys.linkSessionClaim(sha256Hex(token)));
      assert.ok(pttl > 0 && pttl <= 10_000, `claim pttl ${pttl}`);
    });
  });

  describe('refused logins through a link session', () => {
    it('end the session, its scope, claim and counter exactly at the bound', async () => {
      const { token } = await links().createScoped('usr_a', 'acc_a', 60_000);
      const hash = sha256Hex(token);
      await links().claim(token, 10_000);
      assert.equal(await links().recordRefusal(hash, 3), false);
      assert.equal(await links().recordRefusal(hash, 3), false);
      const pttl = await redis.client.pttl(RedisKeys.linkSessionRefusals(hash));
      assert.ok(pttl > 0 && pttl <= 60_000, 'the counter expires with the session');
      assert.equal(await links().recordRefusal(hash, 3), true);
      const keys = [
        RedisKeys.linkSession(hash),
        RedisKeys.linkSessionScope(hash),
        RedisKeys.linkSessionClaim(hash),
        RedisKeys.linkSessionRefusals(hash),
      ];
      assert.equal(await redis.client.exists(...keys), 0);
    });

    it('count nothing for a session that is gone', async () => {
      const hash = sha256Hex('mpl_gone');
      assert.equal(await links().recordRefusal(hash, 1), false);
      assert.equal(await redis.client.exists(RedisKeys.linkSessionRefusals(hash)), 0);
    });
  });

  describe('API key rotation', () => {
    it('swaps the key: the new one opens, the old one stops', async () => {
      const { user, apiKey } = await users().create();
      const rotated = await users().rotateApiKey(user.id);
      assert.ok(rotated);
      assert.equal((await users().findByApiKey(rotated))?.id, user.id);
      assert.equal(await users().findByApiKey(apiKey), null);
    });

    it('answers null for a user that is gone, and leaves no key entry behind', async () => {
      assert.equal(await users().rotateApiKey('usr_missing'), null);
      assert.deepEqual(await redis.client.keys(RedisKeys.apiKey('*')), []);
    });

    it('lets exactly one of two concurrent rotations name the key that works', async () => {
      const { user } = await users().create();
      const keys = await Promise.all([users().rotateApiKey(user.id), users().rotateApiKey(user.id)]);
      const working = await Promise.all(keys.map(async (k) => (k ? await users().findByApiKey(k) : null)));
      assert.equal(working.filter((u) => u?.id === user.id).length, 1);
    });
  });

  describe('device quota and token re-sealing', () => {
    it('holds the device quota at its bound; re-registering a token takes no new place', async () => {
      const devices = new DeviceRepository(redis.client, config({ MAILPUSH_MAX_DEVICES_PER_USER: '2' }));
      const { user } = await users().create();
      const token = makeApnsToken();
      await devices.upsert(user.id, { platform: 'ios', token, environment: 'sandbox', privacy: 'full' });
      await devices.upsert(user.id, { platform: 'ios', token, environment: 'sandbox', privacy: 'none' });
      await devices.upsert(user.id, { platform: 'ios', token: makeApnsToken(), privacy: 'full' });
      await assert.rejects(
        devices.upsert(user.id, { platform: 'ios', token: makeApnsToken(), privacy: 'full' }),
        QuotaExceededError,
      );
      assert.equal(await redis.client.scard(RedisKeys.userDevices(user.id)), 2);
    });

    it('re-seals tokens under the newest key and seals a plaintext one, leaving current ones', async () => {
      const devices = new DeviceRepository(redis.client, config());
      const { user } = await users().create();
      const token = makeApnsToken();
      const { device } = await devices.upsert(user.id, { platform: 'ios', token, privacy: 'full' });
      await redis.client.hset(RedisKeys.device('dev_plain'), {
        id: 'dev_plain',
        userId: user.id,
        platform: 'ios',
        token: 'plain-token',
        createdAt: new Date().toISOString(),
      });
      const newer = new DeviceRepository(
        redis.client,
        config({ MAILPUSH_MASTER_KEY: `${makeMasterKey('v2')},${masterKey}` }),
      );
      assert.deepEqual(await newer.resealTokens(), { resealed: 2, current: 0, failed: 0 });
      assert.equal(await redis.client.hexists(RedisKeys.device('dev_plain'), 'token'), 0, 'plaintext dropped');
      assert.equal((await newer.find('dev_plain'))?.token, 'plain-token');
      assert.equal((await newer.find(device.id))?.token, token);
      assert.deepEqual(await newer.resealTokens(), { resealed: 0, current: 2, failed: 0 });
    });
  });

  describe('master key canary', () => {
    it('is re-sealed under the newest key once, then current', async () => {
      await new MasterKeyCanary(redis.client, config()).check();
      const newer = new MasterKeyCanary(
        redis.client,
        config({ MAILPUSH_MASTER_KEY: `${makeMasterKey('v2')},${masterKey}` }),
      );
      assert.equal(await newer.reseal(), 'resealed');
      assert.match((await redis.client.get(RedisKeys.masterKeyCanary())) ?? '', /^v2\./);
      assert.equal(await newer.reseal(), 'current');
      assert.equal(await newer.check(), 'opened');
    });

    it('is sealed by a reseal when there was none', async () => {
      assert.equal(await new MasterKeyCanary(redis.client, config()).reseal(), 'resealed');
      assert.equal(await new MasterKeyCanary(redis.client, config()).check(), 'opened');
    });
  });

  describe('OAuth refresh lock', () => {
    it('is released only by its owner, so a late release never frees the next holder', async () => {
      const locks = new OAuthRefreshLockRepository(redis.client);
      const first = await locks.acquire('acc_a', 50);
      assert.ok(first);
      assert.equal(await locks.acquire('acc_a', 10_000), null);
      await redis.client.del(RedisKeys.oauthRefreshLock('acc_a'));
      const second = await locks.acquire('acc_a', 10_000);
      assert.ok(second);
      await locks.release(first);
      assert.equal(await locks.acquire('acc_a', 10_000), null, 'the stale release left the lock alone');
      await locks.release(second);
      assert.ok(await locks.acquire('acc_a', 10_000));
    });
  });
});
