import { Inject, Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { sha256Hex } from './ids';
import { REDIS } from './redis.provider';
import { RedisKeys } from './redis-keys';
import { RedisScript } from './redis-script';
import { readTransaction } from './transaction-replies';
import { scanKeys } from './scan-keys';

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

/** Counts a refused login; at `max` the session (its scope and counters too) is gone. True when this call ended it. */
const RECORD_REFUSAL = new RedisScript(__dirname, 'record-link-refusal', 4, (reply) => reply.oneOf([0, 1]) === 1);

/** Takes the session's claim if the session is live and nobody holds it. */
const CLAIM = new RedisScript(__dirname, 'claim-link-session', 2, (reply) => reply.oneOf([0, 1]) === 1);

/** The token hash inside a session key (`…{<hash>}`), or undefined for any other key. */
const SESSION_HASH = /\{([0-9a-f]{64})\}$/;

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
    const replies = readTransaction(
      'link session lookup',
      await this.redis.multi().get(key).pttl(key).get(RedisKeys.linkSessionScope(hash)).exec(),
    );
    if (!replies) return null;
    const userId = replies.at(0).stringOrNull();
    const ttl = replies.at(1).integer();
    const accountId = replies.at(2).stringOrNull();
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
    const replies = readTransaction(
      'link session end',
      await this.redis
        .multi()
        .del(RedisKeys.linkSession(hash))
        .del(RedisKeys.linkSessionScope(hash), RedisKeys.linkSessionRefusals(hash), RedisKeys.linkSessionClaim(hash))
        .exec(),
    );
    const deleted = replies ? replies.at(0).integer() : 0;
    return deleted === 1;
  }

  /**
   * Reserves the session for one request while it links (one submit in flight per link): a
   * concurrent second request gets false and links nothing. The session itself stays (it is a
   * multi-use capability); the claim is let go when the request ends. `holdMs` bounds a claim
   * whose holder died.
   */
  async claim(token: string, holdMs: number): Promise<boolean> {
    const hash = sha256Hex(token);
    return CLAIM.run(this.redis, [RedisKeys.linkSession(hash), RedisKeys.linkSessionClaim(hash)], [holdMs]);
  }

  /** Lets go of a claim without ending the session. */
  async releaseClaim(token: string): Promise<void> {
    await this.redis.del(RedisKeys.linkSessionClaim(sha256Hex(token)));
  }

  /** Counts a refused login made through the session (by token hash); true when this one ended it. */
  async recordRefusal(hash: string, max: number): Promise<boolean> {
    return RECORD_REFUSAL.run(
      this.redis,
      [
        RedisKeys.linkSession(hash),
        RedisKeys.linkSessionRefusals(hash),
        RedisKeys.linkSessionClaim(hash),
        RedisKeys.linkSessionScope(hash),
      ],
      [max],
    );
  }

  /**
   * Ends every session of a user, Reconnect links included (erasure). Sessions are indexed by
   * token hash only, so this scans them; they live minutes to a day, so there are never many.
   */
  async removeAllForUser(userId: string): Promise<number> {
    let removed = 0;
    for await (const key of scanKeys(this.redis, RedisKeys.linkSession('*'), 500)) {
      const hash = SESSION_HASH.exec(key)?.[1];
      if (!hash || key !== RedisKeys.linkSession(hash)) continue;
      if ((await this.redis.get(key)) !== userId) continue;
      await this.redis.del(
        key,
        RedisKeys.linkSessionScope(hash),
        RedisKeys.linkSessionRefusals(hash),
        RedisKeys.linkSessionClaim(hash),
      );
      removed += 1;
    }
    return removed;
  }
}
