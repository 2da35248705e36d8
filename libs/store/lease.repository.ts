import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { REDIS } from './redis.provider';
import { RedisKeys } from './redis-keys';

export interface Lease {
  accountId: string;
  /** `<workerId>#<fence>`: the fence grows on every acquisition, so a stale holder can be told apart. */
  holder: string;
  fence: number;
}

const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;
const ACQUIRE = `
if redis.call('EXISTS', KEYS[3]) == 0 then return nil end
if redis.call('EXISTS', KEYS[1]) == 1 then return nil end
local fence = redis.call('INCR', KEYS[2])
local holder = ARGV[1] .. '#' .. fence
redis.call('SET', KEYS[1], holder, 'PX', ARGV[2])
return holder`;

/** Per-account ownership: at most one worker holds an account's IMAP connection at a time. */
@Injectable()
export class LeaseRepository {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  /** Takes the lease if it is free and the account still exists. */
  async acquire(accountId: string, workerId: string, ttlMs: number): Promise<Lease | null> {
    const holder = (await this.redis.eval(
      ACQUIRE,
      3,
      RedisKeys.lease(accountId),
      RedisKeys.leaseFence(accountId),
      RedisKeys.account(accountId),
      workerId,
      String(ttlMs),
    )) as string | null;
    if (!holder) return null;
    return { accountId, holder, fence: Number(holder.slice(holder.lastIndexOf('#') + 1)) };
  }

  async renew(lease: Lease, ttlMs: number): Promise<boolean> {
    return (await this.redis.eval(RENEW, 1, RedisKeys.lease(lease.accountId), lease.holder, String(ttlMs))) === 1;
  }

  async isHeld(accountId: string): Promise<boolean> {
    return (await this.redis.exists(RedisKeys.lease(accountId))) === 1;
  }

  async release(lease: Lease): Promise<void> {
    await this.redis.eval(RELEASE, 1, RedisKeys.lease(lease.accountId), lease.holder);
  }
}
