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

export interface LinkSessionInfo {
  userId: string;
  expiresAt: string;
  /** A Reconnect link: the one account it may re-arm (consumed when it does). */
  accountId?: string;
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

  /**
   * A Reconnect link: a session that may only re-arm `accountId`, for longer than a linking
   * session (a notification may be opened hours later), ended when the account is re-armed.
   */
  async createScoped(userId: string, accountId: string, ttlMs: number): Promise<LinkSession> {
    const token = `mpl_${randomBytes(32).toString('base64url')}`;
    const hash = sha256Hex(token);
    await this.redis
      .multi()
      .set(RedisKeys.linkSession(hash), userId, 'PX', ttlMs)
      .set(RedisKeys.linkSessionScope(hash), accountId, 'PX', ttlMs)
      .exec();
    return { token, userId, expiresAt: new Date(Date.now() + ttlMs).toISOString() };
  }

  /** The session's user and expiry (and scope), or null when unknown, used or expired. */
  async find(token: string): Promise<LinkSessionInfo | null> {
    return this.findByHash(sha256Hex(token));
  }

  /** As `find`, by the token's SHA-256 (what an OAuth state remembers instead of the token). */
  async findByHash(hash: string): Promise<LinkSessionInfo | null> {
    const key = RedisKeys.linkSession(hash);
    const [[, userId], [, ttl], [, accountId]] = ((await this.redis
      .multi()
      .get(key)
      .pttl(key)
      .get(RedisKeys.linkSessionScope(hash))
      .exec()) ?? [
      [null, null],
      [null, -2],
      [null, null],
    ]) as [[unknown, string | null], [unknown, number], [unknown, string | null]];
    if (!userId || ttl <= 0) return null;
    return { userId, expiresAt: new Date(Date.now() + ttl).toISOString(), ...(accountId ? { accountId } : {}) };
  }

  /** The keys a re-arm deletes to consume a Reconnect link in the same step (see AccountRepository). */
  consumeKeys(tokenHash: string): { sessionKey: string; scopeKey: string } {
    const hash = tokenHash;
    return { sessionKey: RedisKeys.linkSession(hash), scopeKey: RedisKeys.linkSessionScope(hash) };
  }

  /** Ends the session; true only for the caller that ended it. */
  async end(token: string): Promise<boolean> {
    const hash = sha256Hex(token);
    return (await this.redis.del(RedisKeys.linkSession(hash), RedisKeys.linkSessionScope(hash))) >= 1;
  }
}
