import assert from 'node:assert/strict';
import { generateKeyPairSync, verify } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { ApnsTokenStore, RedisApnsTokenBackend } from '@mailpush/push';
import { RedisKeys } from '@mailpush/store';
import { startRedis, type RedisHandle } from '../harness';

const TEAM_ID = 'TEAM123456';
const KEY_ID = 'KEY1234567';
const MIN = 60_000;

describe('ApnsTokenStore: one provider token per team, shared through Redis', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  let redis: RedisHandle;
  let client: Redis;
  let clock = Date.now();
  let keyCounter = 0;

  /** Two "processes": two stores, each with its own memory, on one Redis key and one clock. */
  function processes(count: number, refreshMs = 45 * MIN): ApnsTokenStore[] {
    const key = RedisKeys.apnsProviderToken(TEAM_ID, `KEY${String(++keyCounter).padStart(7, '0')}`);
    return Array.from(
      { length: count },
      () =>
        new ApnsTokenStore({
          keyPem,
          keyId: KEY_ID,
          teamId: TEAM_ID,
          refreshMs,
          backend: new RedisApnsTokenBackend(client, key),
          now: () => clock,
        }),
    );
  }

  before(async () => {
    redis = await startRedis();
    client = new Redis(redis.url);
  });

  after(async () => {
    await client.quit();
    await redis.stop();
  });

  it('mints a JWT Apple accepts: ES256, kid, iss, iat', async () => {
    const [store] = processes(1);
    const jwt = await store!.current();
    const [h, c, s] = jwt.split('.') as [string, string, string];
    assert.deepEqual(JSON.parse(Buffer.from(h, 'base64url').toString()), { alg: 'ES256', kid: KEY_ID });
    assert.deepEqual(JSON.parse(Buffer.from(c, 'base64url').toString()), {
      iss: TEAM_ID,
      iat: Math.floor(clock / 1000),
    });
    assert.ok(
      verify(
        'sha256',
        Buffer.from(`${h}.${c}`),
        { key: publicKey, dsaEncoding: 'ieee-p1363' },
        Buffer.from(s, 'base64url'),
      ),
    );
  });

  it('gives every process the same token, even when they all start at once', async () => {
    const stores = processes(5);
    const jwts = await Promise.all(stores.flatMap((s) => [s.current(), s.current()]));
    assert.equal(new Set(jwts).size, 1);
  });

  it('keeps the token until the refresh age, then one process mints and the others adopt it', async () => {
    const [a, b] = processes(2) as [ApnsTokenStore, ApnsTokenStore];
    const first = await a.current();
    assert.equal(await b.current(), first);
    clock += 44 * MIN;
    assert.equal(await a.current(), first);
    assert.equal(await b.current(), first);
    clock += 2 * MIN;
    const [second, secondB] = await Promise.all([a.current(), b.current()]);
    assert.notEqual(second, first);
    assert.equal(secondB, second, 'no second mint in the same period');
  });

  it('on ExpiredProviderToken replaces the token only when it is 20 minutes old, and only once', async () => {
    const [a, b] = processes(2) as [ApnsTokenStore, ApnsTokenStore];
    const first = await a.current();
    clock += 5 * MIN;
    await a.reportExpired(first);
    assert.equal(await a.current(), first, 'too young to replace: APNs would answer TooManyProviderTokenUpdates');
    clock += 16 * MIN;
    await Promise.all([a.reportExpired(first), b.reportExpired(first)]);
    const [fromA, fromB] = await Promise.all([a.current(), b.current()]);
    assert.notEqual(fromA, first);
    assert.equal(fromB, fromA);
    // A late report about the old token changes nothing.
    await b.reportExpired(first);
    assert.equal(await b.current(), fromA);
  });

  it('refuses a refresh period outside 20-60 minutes', () => {
    assert.throws(() => processes(1, 10 * MIN), /between 20 and 60 minutes/);
    assert.throws(() => processes(1, 61 * MIN), /between 20 and 60 minutes/);
  });
});
