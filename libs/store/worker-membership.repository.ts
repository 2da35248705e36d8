import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { REDIS } from './redis.provider';
import { RedisKeys } from './redis-keys';

/** Which workers are alive: each heartbeats its id into one sorted set, scored by time. */
@Injectable()
export class WorkerMembership {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  /** Records a heartbeat and returns the workers seen within `ttlMs` (this one included), sorted. */
  async heartbeat(workerId: string, ttlMs: number, now: number = Date.now()): Promise<string[]> {
    const key = RedisKeys.workers();
    const results = await this.redis
      .multi()
      .zadd(key, now, workerId)
      .zremrangebyscore(key, '-inf', now - 10 * ttlMs)
      .zrangebyscore(key, now - ttlMs, '+inf')
      .exec();
    const live = (results?.[2]?.[1] as string[] | undefined) ?? [workerId];
    return live.sort();
  }

  /** Workers that heartbeated within `ttlMs`. */
  async live(ttlMs: number, now: number = Date.now()): Promise<string[]> {
    return (await this.redis.zrangebyscore(RedisKeys.workers(), now - ttlMs, '+inf')).sort();
  }

  async leave(workerId: string): Promise<void> {
    await this.redis.zrem(RedisKeys.workers(), workerId);
  }
}
