import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { loadConfig } from '@mailpush/config';
import { ClassifiedFailure } from '@mailpush/errors';
import { createLogger } from '@mailpush/logging';
import { GrantTokenSource, type TokenSet } from '@mailpush/oauth';
import { ResponseBodyError } from 'oauth4webapi';
import { AccountRepository, OAuthRefreshLockRepository, RedisKeys } from '@mailpush/store';
import { startRedis, type RedisHandle } from '../harness';
import { makeAdminToken, makeMasterKey } from '../support/factories';

/** A provider stand-in that counts refreshes in flight at once and rotates the refresh token. */
class RotatingProvider {
  current = 'rt_0';
  inFlight = 0;
  maxInFlight = 0;
  calls = 0;
  revoked = false;

  async refresh(refreshToken: string): Promise<TokenSet> {
    this.calls++;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await new Promise((resolve) => setTimeout(resolve, 50));
      if (this.revoked || refreshToken !== this.current) {
        const response = new Response(JSON.stringify({ error: 'invalid_grant' }), { status: 400 });
        throw new ResponseBodyError('server responded with an error in the response body', {
          cause: { error: 'invalid_grant' },
          response,
        });
      }
      this.current = `rt_${this.calls}`;
      return { accessToken: `at_${this.calls}`, expiresAt: Date.now() + 30_000, refreshToken: this.current };
    } finally {
      this.inFlight--;
    }
  }
}

const USER_ID = 'usr_00000000000000000000';

describe('OAuth2 grant token source on real Redis', () => {
  let redis: RedisHandle;
  let client: Redis;
  let accounts: AccountRepository;
  let locks: OAuthRefreshLockRepository;

  before(async () => {
    redis = await startRedis();
    client = new Redis(redis.url);
    const config = loadConfig({ MAILPUSH_MASTER_KEY: makeMasterKey(), MAILPUSH_ADMIN_TOKEN: makeAdminToken() });
    accounts = new AccountRepository(client, config);
    locks = new OAuthRefreshLockRepository(client);
    // An account belongs to a user that exists (creates for an erased user are refused).
    await client.hset(RedisKeys.user(USER_ID), { id: USER_ID, createdAt: new Date().toISOString() });
  });

  after(async () => {
    await client?.quit();
    await redis?.stop();
  });

  async function makeAccount(access: { accessToken: string; expiresAt: number }): Promise<string> {
    const account = await accounts.create(
      USER_ID,
      {
        email: 'dana@example.test',
        imap: { host: '127.0.0.1', port: 993, tls: true },
        username: 'dana@example.test',
        oauth: { provider: 'gmail', refreshToken: 'rt_0', access },
      },
      { uidValidity: 1, lastUid: 0 },
    );
    return account.id;
  }

  const source = (accountId: string, provider: RotatingProvider) =>
    new GrantTokenSource({
      accountId,
      accounts,
      locks,
      marginMs: 10_000,
      logger: createLogger('token-source-test'),
      refresh: (rt) => provider.refresh(rt),
    });

  it('serves a stored token while it is fresh, and one refresh for many concurrent callers in two "processes"', async () => {
    const provider = new RotatingProvider();
    const id = await makeAccount({ accessToken: 'at_initial', expiresAt: Date.now() + 60_000 });
    const a = source(id, provider);
    const b = source(id, provider);
    assert.equal((await a.accessToken()).accessToken, 'at_initial');
    assert.equal(provider.calls, 0, 'a fresh token is not refreshed');

    // Within the margin: everyone needs a new one at once.
    await accounts.storeRefreshedGrant(id, (await accounts.oauthGrant(id))!, undefined, {
      accessToken: 'at_initial',
      expiresAt: Date.now() + 5_000,
    });
    const tokens = await Promise.all([...Array(6)].map((_, i) => (i % 2 ? a : b).accessToken()));
    assert.equal(provider.calls, 1, 'one refresh, however many callers');
    assert.equal(provider.maxInFlight, 1);
    assert.deepEqual(new Set(tokens.map((t) => t.accessToken)), new Set(['at_1']));
    const grant = (await accounts.oauthGrant(id))!;
    assert.equal(grant.refreshToken, 'rt_1', 'the rotated refresh token is stored');
    assert.equal(tokens[0]!.refreshAt, tokens[0]!.expiresAt - 10_000);
  });

  it('refreshes a token the server refused, once, even while it looks fresh', async () => {
    const provider = new RotatingProvider();
    const id = await makeAccount({ accessToken: 'at_refused', expiresAt: Date.now() + 60_000 });
    const s = source(id, provider);
    const [x, y] = await Promise.all([s.accessToken('at_refused'), s.accessToken('at_refused')]);
    assert.deepEqual([x.accessToken, y.accessToken, provider.calls], ['at_1', 'at_1', 1]);
  });

  it('reports a revoked grant as reauth_required and stores nothing over it', async () => {
    const provider = new RotatingProvider();
    provider.revoked = true;
    const id = await makeAccount({ accessToken: 'at_old', expiresAt: Date.now() + 1_000 });
    const err = await source(id, provider)
      .accessToken()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(err instanceof ClassifiedFailure);
    assert.deepEqual([err.classified.errorClass, err.classified.code], ['auth', 'reauth_required']);
    assert.equal((await accounts.oauthGrant(id))!.refreshToken, 'rt_0');
    assert.equal(await client.exists(`mp:oauth-refresh-lock:${id}`), 0, 'the lock is released');
  });

  it('does not overwrite a grant replaced by a re-link while a refresh was running', async () => {
    const id = await makeAccount({ accessToken: 'at_old', expiresAt: Date.now() + 1_000 });
    const before = (await accounts.oauthGrant(id))!;
    await accounts.rearmWithOAuth(USER_ID, id, 'dana@example.test', {
      provider: 'gmail',
      refreshToken: 'rt_relinked',
      access: { accessToken: 'at_relinked', expiresAt: Date.now() + 60_000 },
    });
    const stale = await accounts.storeRefreshedGrant(id, before, 'rt_stale', {
      accessToken: 'at_stale',
      expiresAt: Date.now() + 60_000,
    });
    assert.equal(stale, false);
    const now = (await accounts.oauthGrant(id))!;
    assert.deepEqual([now.refreshToken, now.access?.accessToken], ['rt_relinked', 'at_relinked']);
  });
});
