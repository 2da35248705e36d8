import { Inject, Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { releaseIfHolder } from './held-key';
import { REDIS } from './redis.provider';
import { RedisKeys } from './redis-keys';

export interface RefreshLock {
  accountId: string;
  owner: string;
}

/**
 * One process at a time refreshes an account's OAuth2 grant: with rotating refresh tokens, two
 * concurrent refreshes spend the same token twice and a strict provider revokes the grant. Kept
 * apart from account ownership (leases) on purpose: during a hand-over two workers may both hold
 * an account for a moment, and they must still not refresh at once.
 */
@Injectable()
export class OAuthRefreshLockRepository {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async acquire(accountId: string, ttlMs: number): Promise<RefreshLock | null> {
    const owner = randomBytes(12).toString('base64url');
    const ok = await this.redis.set(RedisKeys.oauthRefreshLock(accountId), owner, 'PX', ttlMs, 'NX');
    return ok === 'OK' ? { accountId, owner } : null;
  }

  async release(lock: RefreshLock): Promise<void> {
    await releaseIfHolder(this.redis, RedisKeys.oauthRefreshLock(lock.accountId), lock.owner);
  }
}
