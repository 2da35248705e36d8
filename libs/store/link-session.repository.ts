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

/**
 * Linking URLs: a phone app asks for one and opens it in a browser, where the person links and
 * manages mailboxes without ever handling an API key. Stored hashed, expiring by themselves (a
 * short-lived capability, not single-use), or ended early by their bearer.
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
    return (await this.redis.del(RedisKeys.linkSession(sha256Hex(token)))) === 1;
  }
}
