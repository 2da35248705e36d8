import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { REDIS } from './redis.provider';
import { RedisKeys } from './redis-keys';
import { slotOf } from './slots';

/**
 * Whether some worker holds each account right now: the one question metrics ask about ownership.
 * An account is held while its slot's lease exists; each slot is asked once.
 */
@Injectable()
export class AccountOwnershipReader {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async held(accountIds: readonly string[]): Promise<boolean[]> {
    if (accountIds.length === 0) return [];
    const slots = [...new Set(accountIds.map(slotOf))];
    // One EXISTS per slot, auto-pipelined (an explicit pipeline cannot span Redis Cluster slots).
    const present = await Promise.all(slots.map((slot) => this.redis.exists(RedisKeys.slotLease(slot))));
    const heldSlots = new Set(slots.filter((_, i) => present[i] === 1));
    return accountIds.map((id) => heldSlots.has(slotOf(id)));
  }
}
