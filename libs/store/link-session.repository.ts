import { Inject, Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { sha256Hex } from './ids';
import { REDIS } from './redis.provider';
import { RedisKeys } from './redis-keys';

export interface LinkSession {
  token: string;
  userId: string;
  expiresAt: string;
}

/** Counts a refused login; at `max` the session (and its counters) are gone. Returns 1 when it ended the session. */
const RECORD_REFUSAL = `
local ttl = redis.call('PTTL', KEYS[1])
if ttl <= 0 then return 0 end
local n = redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ttl)
if n >= tonumber(ARGV[1]) then
  redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
  return 1
end
return 0`;

/** Takes the session's claim if the session is live and nobody holds it. */
const CLAIM = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[1]) then return 1 end
return 0`;

/**
 * One-time linking URLs: a phone app asks for one and opens it in a browser, where the person
 * links a mailbox without ever handling an API key. Stored hashed, expiring by themselves, and
 * ended by the first successful link.
 */
@Injectable()
export class LinkSessionRepository {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async create(userId: string, ttlMs: number): Promise<LinkSession> {
    const token = `mpl_${randomBytes(32).toString('base64url')}`;
    await this.redis.set(RedisKeys.linkSession(sha256Hex(token)), userId, 'PX', ttlMs);
    return { token, userId, expiresAt: new Date(Date.now() + ttlMs).toISOString() };
  }

  /** The session's user and expiry, or null when unknown, used or expired. */
  async find(token: string): Promise<{ userId: string; expiresAt: string } | null> {
    const key = RedisKeys.linkSession(sha256Hex(token));
    const [[, userId], [, ttl]] = ((await this.redis.multi().get(key).pttl(key).exec()) ?? [
      [null, null],
      [null, -2],
    ]) as [[unknown, string | null], [unknown, number]];
    if (!userId || ttl <= 0) return null;
    return { userId, expiresAt: new Date(Date.now() + ttl).toISOString() };
  }

  /** Ends the session; true only for the caller that ended it. */
  async end(token: string): Promise<boolean> {
    const hash = sha256Hex(token);
    const [[, deleted]] = ((await this.redis
      .multi()
      .del(RedisKeys.linkSession(hash))
      .del(RedisKeys.linkSessionRefusals(hash), RedisKeys.linkSessionClaim(hash))
      .exec()) ?? [[null, 0]]) as [[unknown, number]];
    return deleted === 1;
  }

  /**
   * Atomically reserves a one-time session for one request while it links: a concurrent second
   * request gets false (and links nothing). `holdMs` bounds a claim whose holder died.
   */
  async claim(token: string, holdMs: number): Promise<boolean> {
    const hash = sha256Hex(token);
    return (
      (await this.redis.eval(
        CLAIM,
        2,
        RedisKeys.linkSession(hash),
        RedisKeys.linkSessionClaim(hash),
        String(holdMs),
      )) === 1
    );
  }

  /** Lets go of a claim without ending the session (the login was refused: the person may try again). */
  async releaseClaim(token: string): Promise<void> {
    await this.redis.del(RedisKeys.linkSessionClaim(sha256Hex(token)));
  }

  /** Counts a refused login made through the session; true when this one ended it. */
  async recordRefusal(token: string, max: number): Promise<boolean> {
    const hash = sha256Hex(token);
    return (
      (await this.redis.eval(
        RECORD_REFUSAL,
        3,
        RedisKeys.linkSession(hash),
        RedisKeys.linkSessionRefusals(hash),
        RedisKeys.linkSessionClaim(hash),
        String(max),
      )) === 1
    );
  }

  /**
   * Ends every session of a user (erasure). Sessions are indexed by token hash only, so this scans
   * them; they live 15 minutes, so there are never many.
   */
  async removeAllForUser(userId: string): Promise<number> {
    let removed = 0;
    const stream = this.redis.scanStream({ match: RedisKeys.linkSession('*'), count: 500 });
    const prefix = RedisKeys.linkSession('');
    for await (const keys of stream as AsyncIterable<string[]>) {
      for (const key of keys) {
        const hash = key.slice(prefix.length);
        if (hash.includes(':')) continue;
        const type = await this.redis.type(key);
        const owner =
          type === 'string' ? await this.redis.get(key) : type === 'hash' ? await this.redis.hget(key, 'userId') : null;
        if (owner !== userId) continue;
        await this.redis.del(key, RedisKeys.linkSessionRefusals(hash), RedisKeys.linkSessionClaim(hash));
        removed += 1;
      }
    }
    return removed;
  }
}
