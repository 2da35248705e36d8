import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '@mailpush/config';
import {
  AccountRepository,
  LinkSessionRepository,
  QuotaExceededError,
  RedisKeys,
  UserRepository,
  sha256Hex,
  slotOf,
} from '@mailpush/store';
import { eventually } from '../harness';
import { makeAdminToken, makeMasterKey, makeNewAccount } from '../support/factories';
import { useRealRedis } from './redis.fixture';

const MAX_ACCOUNTS = 2;

const oauthGrant = (refreshToken: string) => ({
  provider: 'google',
  refreshToken,
  access: { accessToken: 'access-1', expiresAt: Date.now() + 3600_000 },
});

describe('AccountRepository on a real Redis: the account scripts', () => {
  const redis = useRealRedis();
  const masterKey = makeMasterKey();
  const config = () =>
    loadConfig({
      REDIS_URL: redis.url,
      MAILPUSH_MASTER_KEY: masterKey,
      MAILPUSH_ADMIN_TOKEN: makeAdminToken(),
      MAILPUSH_MAX_ACCOUNTS_PER_USER: String(MAX_ACCOUNTS),
    });
  const accounts = () => new AccountRepository(redis.client, config());
  const newUser = async () => (await new UserRepository(redis.client).create()).user.id;
  const cursor = { uidValidity: 5, lastUid: 40 };

  /** What a slot's owner hears: `<version>:<accountId>` messages on the slot's channel. */
  async function listen(accountId: string): Promise<{ messages: string[]; stop(): Promise<void> }> {
    const sub = redis.client.duplicate();
    const messages: string[] = [];
    sub.on('message', (_channel: string, message: string) => messages.push(message));
    await sub.subscribe(RedisKeys.slotChannel(slotOf(accountId)));
    return { messages, stop: async () => void (await sub.quit()) };
  }

  it('creates the record, its cursor and its slot membership, and tells the slot', async () => {
    const userId = await newUser();
    const account = await accounts().create(userId, makeNewAccount(), cursor);
    const slot = slotOf(account.id);
    assert.equal((await accounts().find(account.id))?.status, 'connecting');
    assert.deepEqual(await redis.client.hgetall(RedisKeys.cursor(account.id)), { uidValidity: '5', lastUid: '40' });
    assert.deepEqual(await accounts().idsInSlot(slot), [account.id]);
    assert.equal(await accounts().slotVersion(slot), '1');
    assert.equal(await accounts().countForUser(userId), 1);
  });

  it('holds the mailbox quota at its bound, also for concurrent creates', async () => {
    const userId = await newUser();
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, () => accounts().create(userId, makeNewAccount(), cursor)),
    );
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, MAX_ACCOUNTS);
    for (const r of results.filter((r) => r.status === 'rejected')) {
      assert.ok(r.reason instanceof QuotaExceededError);
    }
    assert.equal(await accounts().countForUser(userId), MAX_ACCOUNTS);
    const [first] = await accounts().listForUser(userId);
    assert.ok(first);
    await accounts().remove(userId, first.id);
    await accounts().create(userId, makeNewAccount(), cursor);
    await assert.rejects(accounts().create(userId, makeNewAccount(), cursor), QuotaExceededError);
  });

  it('removes the record, cursor and slot membership, tells the slot, and refuses another user', async () => {
    const userId = await newUser();
    const account = await accounts().create(userId, makeNewAccount(), cursor);
    assert.equal(await accounts().remove(await newUser(), account.id), false);
    const heard = await listen(account.id);
    try {
      assert.equal(await accounts().remove(userId, account.id), true);
      await eventually(() => assert.deepEqual(heard.messages, [`2:${account.id}`]));
    } finally {
      await heard.stop();
    }
    assert.equal(await redis.client.exists(RedisKeys.account(account.id), RedisKeys.cursor(account.id)), 0);
    assert.deepEqual(await accounts().idsInSlot(slotOf(account.id)), []);
    assert.equal(await accounts().remove(userId, account.id), false);
  });

  it('replaces credentials: version bumped, back to connecting, errors cleared; disabled stays disabled', async () => {
    const userId = await newUser();
    const account = await accounts().create(userId, makeNewAccount(), cursor);
    await accounts().setStatus(account.id, { status: 'auth_error', lastError: 'auth_failed', alert: 'x' });
    const replaced = await accounts().replaceCredentials(userId, account.id, 'new-user', 'new-password');
    assert.ok(replaced && replaced !== 'link_used');
    assert.equal(replaced.status, 'connecting');
    assert.equal(replaced.credentialsVersion, 1);
    assert.equal(replaced.lastError, undefined);
    assert.equal(replaced.alert, undefined);
    assert.deepEqual(await accounts().credentials(account.id), {
      kind: 'password',
      username: 'new-user',
      password: 'new-password',
      version: 1,
    });
    await accounts().setEnabled(userId, account.id, false);
    const again = await accounts().replaceCredentials(userId, account.id, 'u', 'p');
    assert.ok(again && again !== 'link_used');
    assert.equal(again.status, 'disabled');
    assert.equal(again.credentialsVersion, 2);
    assert.equal(await accounts().replaceCredentials(userId, 'acc_missing', 'u', 'p'), null);
  });

  it('consumes a Reconnect link once, and only for the account it names', async () => {
    const userId = await newUser();
    const account = await accounts().create(userId, makeNewAccount(), cursor);
    const other = await accounts().create(userId, makeNewAccount(), cursor);
    const links = new LinkSessionRepository(redis.client);
    const { token } = await links.createScoped(userId, account.id, 60_000);
    const consume = links.consumeKeys(sha256Hex(token));
    assert.equal(await accounts().replaceCredentials(userId, other.id, 'u', 'p', consume), 'link_used');
    const first = await accounts().replaceCredentials(userId, account.id, 'u', 'p', consume);
    assert.ok(first && first !== 'link_used' && first.credentialsVersion === 1);
    assert.equal(await accounts().replaceCredentials(userId, account.id, 'u', 'p2', consume), 'link_used');
    assert.equal(await links.find(token), null);
    assert.equal((await accounts().find(account.id))?.credentialsVersion, 1);
  });

  it('stores a refreshed grant only for the credentials it was refreshed from', async () => {
    const userId = await newUser();
    const account = await accounts().create(
      userId,
      makeNewAccount({ password: undefined, oauth: oauthGrant('refresh-1') }),
      cursor,
    );
    const grant = await accounts().oauthGrant(account.id);
    assert.ok(grant);
    const access = { accessToken: 'access-2', expiresAt: Date.now() + 3600_000 };
    assert.equal(await accounts().storeRefreshedGrant(account.id, grant, 'refresh-2', access), true);
    assert.equal((await accounts().oauthGrant(account.id))?.refreshToken, 'refresh-2');
    // Read before the rotation above: its sealed grant is no longer the stored one.
    assert.equal(await accounts().storeRefreshedGrant(account.id, grant, 'refresh-3', access), false);
    assert.equal((await accounts().oauthGrant(account.id))?.refreshToken, 'refresh-2');
    // Re-linked meanwhile (credentials version moved): not even the access token is written.
    const current = await accounts().oauthGrant(account.id);
    assert.ok(current);
    await accounts().rearmWithOAuth(userId, account.id, 'person@example.com', oauthGrant('refresh-new'));
    const stale = { accessToken: 'stale', expiresAt: 1 };
    assert.equal(await accounts().storeRefreshedGrant(account.id, current, undefined, stale), false);
    assert.equal((await accounts().oauthGrant(account.id))?.access?.accessToken, 'access-1');
  });

  it('writes live status only for a live, enabled account and the credentials it connected with', async () => {
    const userId = await newUser();
    const account = await accounts().create(userId, makeNewAccount(), cursor);
    assert.equal(await accounts().setStatus(account.id, { status: 'backoff', lastError: 'timeout' }, 0), true);
    assert.equal((await accounts().find(account.id))?.lastError, 'timeout');
    assert.equal(await accounts().setStatus(account.id, { status: 'idle', lastError: null }, 0), true);
    const idle = await accounts().find(account.id);
    assert.equal(idle?.status, 'idle');
    assert.equal(idle.lastError, undefined);
    assert.equal(await accounts().setStatus(account.id, { status: 'auth_error' }, 7), false, 'older credentials');
    await accounts().setEnabled(userId, account.id, false);
    assert.equal(await accounts().setStatus(account.id, { status: 'idle' }), false, 'disabled');
    assert.equal((await accounts().find(account.id))?.status, 'disabled');
    await accounts().setEnabled(userId, account.id, true);
    assert.equal((await accounts().find(account.id))?.status, 'connecting');
    assert.equal(await accounts().setStatus('acc_missing', { status: 'idle' }), false);
    await accounts().touchLastEvent('acc_missing');
    assert.equal(await redis.client.exists(RedisKeys.account('acc_missing')), 0, 'no hash resurrected');
    const at = new Date('2026-01-02T03:04:05.000Z');
    await accounts().touchLastEvent(account.id, at);
    assert.equal((await accounts().find(account.id))?.lastEventAt, at.toISOString());
  });

  it('tells the slot of every enable and disable, in version order', async () => {
    const userId = await newUser();
    const account = await accounts().create(userId, makeNewAccount(), cursor);
    const heard = await listen(account.id);
    try {
      await accounts().setEnabled(userId, account.id, false);
      await accounts().setEnabled(userId, account.id, true);
      await eventually(() => assert.deepEqual(heard.messages, [`2:${account.id}`, `3:${account.id}`]));
    } finally {
      await heard.stop();
    }
    assert.equal(await accounts().setEnabled(userId, 'acc_missing', false), null);
  });

  it('re-seals credentials under the newest key, unless they changed meanwhile', async () => {
    const userId = await newUser();
    const account = await accounts().create(userId, makeNewAccount(), cursor);
    const newer = new AccountRepository(
      redis.client,
      loadConfig({
        REDIS_URL: redis.url,
        MAILPUSH_MASTER_KEY: `${makeMasterKey('v2')},${masterKey}`,
        MAILPUSH_ADMIN_TOKEN: makeAdminToken(),
      }),
    );
    assert.equal(await newer.resealCredentials(account.id), 'resealed');
    assert.match((await redis.client.hget(RedisKeys.account(account.id), 'credentials')) ?? '', /^v2\./);
    assert.equal((await newer.credentials(account.id))?.kind, 'password');
    assert.equal(await newer.resealCredentials(account.id), 'current');
    assert.equal(await newer.resealCredentials('acc_missing'), 'missing');
  });

  it('moves a pre-slot account into its slot and tells the slot', async () => {
    const id = 'acc_legacy';
    await redis.client.hset(RedisKeys.legacyAccount(id), { id, userId: 'usr_x' });
    await redis.client.hset(RedisKeys.legacyCursor(id), { uidValidity: '1', lastUid: '2' });
    assert.equal(await accounts().migrateToSlot(id), 'moved');
    assert.equal(await accounts().slotVersion(slotOf(id)), '1');
    assert.deepEqual(await redis.client.hgetall(RedisKeys.cursor(id)), { uidValidity: '1', lastUid: '2' });
    assert.equal(await accounts().migrateToSlot(id), 'current');
  });
});
