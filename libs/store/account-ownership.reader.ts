import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { REDIS } from './redis.provider';
import { RedisKeys } from './redis-keys';

/**
 * Whether some worker holds each account right now: the one question metrics ask about ownership.
 * Today an account is held while its lease key exists; a different ownership model (slots)
 * answers the same question here and nothing else changes.
 */
@Injectable()
export class AccountOwnershipReader {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async held(accountIds: readonly string[]): Promise<boolean[]> {
    if (accountIds.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of accountIds) pipeline.exists(RedisKeys.lease(id));
    const results = (await pipeline.exec()) ?? [];
    return accountIds.map((_, i) => results[i]?.[1] === 1);
  }
}
