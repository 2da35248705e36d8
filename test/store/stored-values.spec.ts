import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '@mailpush/config';
import {
  AccountRepository,
  CredentialCipher,
  DeviceRepository,
  LinkSessionRepository,
  OAuthStateRepository,
  RedisKeys,
  StoredValueError,
  UserRepository,
  sha256Hex,
} from '@mailpush/store';
import { makeAdminToken, makeApnsToken, makeMasterKey, makeNewAccount } from '../support/factories';
import { useRealRedis } from './redis.fixture';

const SECRET_MARK = 'hunter2-secret-mark';

const oauthGrant = {
  provider: 'google',
  refreshToken: 'refresh-1',
  access: { accessToken: 'access-1', expiresAt: Date.now() + 3600_000 },
};

/** Decrypts fine, but is not what the relay seals: each must be refused without quoting it. */
const CORRUPT_SECRETS = [
  `not json ${SECRET_MARK}`,
  'null',
  JSON.stringify(SECRET_MARK),
  JSON.stringify({}),
  JSON.stringify({ password: 42, note: SECRET_MARK }),
  JSON.stringify({ kind: 'oauth2', provider: 'google', note: SECRET_MARK }),
  JSON.stringify({ kind: 'saml', provider: 'google', refreshToken: SECRET_MARK }),
];

describe('stored values on a real Redis: corrupt ones fail typed, never quoted', () => {
  const redis = useRealRedis();
  const config = loadConfig({
    REDIS_URL: 'redis://127.0.0.1:6379',
    MAILPUSH_MASTER_KEY: makeMasterKey(),
    MAILPUSH_ADMIN_TOKEN: makeAdminToken(),
  });
  const cipher = new CredentialCipher(config.masterKeys);
  const accounts = () => new AccountRepository(redis.client, config);
  const newUser = async () => (await new UserRepository(redis.client).create()).user.id;
  const cursor = { uidValidity: 5, lastUid: 40 };

  const sealInto = async (accountId: string, field: string, plaintext: string, aad = accountId) =>
    redis.client.hset(RedisKeys.account(accountId), field, cipher.seal(plaintext, aad));

  const isStoredValueError = (err: unknown): boolean => {
    assert.ok(err instanceof StoredValueError, `expected StoredValueError, got ${String(err)}`);
    assert.equal(err.what, 'credentials');
    assert.ok(!err.message.includes(SECRET_MARK), 'the message quotes the stored value');
    return true;
  };

  it('reads the credentials and the grant it sealed', async () => {
    const userId = await newUser();
    const password = await accounts().create(userId, makeNewAccount(), cursor);
    const oauth = await accounts().create(userId, makeNewAccount({ password: undefined, oauth: oauthGrant }), cursor);
    assert.deepEqual(await accounts().credentials(password.id), {
      kind: 'password',
      username: 'person@example.com',
      password: 'app-password',
      version: 0,
    });
    const grant = await accounts().oauthGrant(oauth.id);
    assert.equal(grant?.refreshToken, 'refresh-1');
    assert.deepEqual(grant?.access, oauthGrant.access);
    assert.equal(await accounts().oauthGrant(password.id), null);
  });

  it('refuses credentials that decrypt to anything else with StoredValueError', async () => {
    const userId = await newUser();
    const account = await accounts().create(userId, makeNewAccount(), cursor);
    for (const corrupt of CORRUPT_SECRETS) {
      await sealInto(account.id, 'credentials', corrupt);
      await assert.rejects(accounts().credentials(account.id), isStoredValueError, corrupt);
      await assert.rejects(accounts().oauthGrant(account.id), isStoredValueError, corrupt);
    }
  });

  it('treats an unreadable cached access token as none (a refresh replaces it)', async () => {
    const userId = await newUser();
    const account = await accounts().create(userId, makeNewAccount({ password: undefined, oauth: oauthGrant }), cursor);
    for (const corrupt of ['not json', '{}', JSON.stringify({ accessToken: 'a', expiresAt: 'soon' })]) {
      await sealInto(account.id, 'oauthAccess', corrupt, `${account.id}#access`);
      const grant = await accounts().oauthGrant(account.id);
      assert.equal(grant?.refreshToken, 'refresh-1', corrupt);
      assert.equal(grant?.access, undefined, corrupt);
    }
  });

  it('reads a status it never writes as connecting, and leaves it out of the counts', async () => {
    const userId = await newUser();
    const account = await accounts().create(userId, makeNewAccount(), cursor);
    await redis.client.hset(RedisKeys.account(account.id), 'status', 'exploded');
    assert.equal((await accounts().find(account.id))?.status, 'connecting');
    assert.deepEqual(await accounts().statusCounts(), {});
    await redis.client.hset(RedisKeys.account(account.id), 'status', 'idle');
    assert.deepEqual(await accounts().statusCounts(), { idle: 1 });
  });

  describe('device fields', () => {
    const devices = () => new DeviceRepository(redis.client, config);
    const newDevice = async () =>
      (
        await devices().upsert(await newUser(), {
          platform: 'ios',
          token: makeApnsToken(),
          environment: 'sandbox',
          privacy: 'sender',
        })
      ).device;

    it('reads back what it wrote', async () => {
      const device = await newDevice();
      assert.deepEqual(await devices().find(device.id), device);
    });

    it('refuses a platform it never writes: the record is no device', async () => {
      const device = await newDevice();
      await redis.client.hset(RedisKeys.device(device.id), 'platform', 'symbian');
      assert.equal(await devices().find(device.id), null);
    });

    it('shows nothing for a privacy tier it never writes, everything for a record from before tiers', async () => {
      const device = await newDevice();
      await redis.client.hset(RedisKeys.device(device.id), 'privacy', 'secret');
      assert.equal((await devices().find(device.id))?.privacy, 'none');
      await redis.client.hdel(RedisKeys.device(device.id), 'privacy');
      assert.equal((await devices().find(device.id))?.privacy, 'full');
    });

    it('drops an APNs environment it never writes (the configured default applies)', async () => {
      const device = await newDevice();
      await redis.client.hset(RedisKeys.device(device.id), 'environment', 'staging');
      const found = await devices().find(device.id);
      assert.equal(found?.platform, 'ios');
      assert.equal(found?.environment, undefined);
    });
  });

  it('answers no OAuth state for a stored one it cannot read, and erases only readable ones of the user', async () => {
    const states = new OAuthStateRepository(redis.client);
    const record = {
      provider: 'google',
      userId: 'usr_a',
      codeVerifier: 'v'.repeat(43),
      nonce: 'n'.repeat(16),
      createdAt: Date.now(),
    };
    const state = await states.create(record, 60_000);
    const key = RedisKeys.oauthState(sha256Hex(state));
    await redis.client.set(key, `{"userId":"usr_a","codeVerifier":"${SECRET_MARK}"`);
    assert.equal(await states.claim(state), null);
    assert.equal(await redis.client.exists(key), 0, 'claimed once, readable or not');
    await states.create(record, 60_000);
    await redis.client.set(RedisKeys.oauthState('f'.repeat(64)), 'not json');
    assert.equal(await states.removeAllForUser('usr_a'), 1);
    assert.equal(await redis.client.exists(RedisKeys.oauthState('f'.repeat(64))), 1);
  });

  describe('link session transactions', () => {
    const links = () => new LinkSessionRepository(redis.client);

    it('finds a live session with its scope, and nothing once ended', async () => {
      const session = await links().createScoped('usr_a', 'acc_1', 60_000);
      const found = await links().find(session.token);
      assert.equal(found?.userId, 'usr_a');
      assert.equal(found?.accountId, 'acc_1');
      assert.ok(found && Date.parse(found.expiresAt) > Date.now());
      assert.equal(await links().end(session.token), true);
      assert.equal(await links().end(session.token), false);
      assert.equal(await links().find(session.token), null);
    });

    it("throws Redis's own error when a session key holds another type, instead of reading it as absent", async () => {
      const session = await links().create('usr_a', 60_000);
      const key = RedisKeys.linkSession(sha256Hex(session.token));
      await redis.client.del(key);
      await redis.client.hset(key, 'userId', 'usr_a');
      await assert.rejects(links().find(session.token), /WRONGTYPE/);
    });
  });
});
