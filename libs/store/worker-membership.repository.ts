import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { REDIS } from './redis.provider';
import { RedisKeys } from './redis-keys';
import { readTransaction } from './transaction-replies';

/** What workers announce on the workers channel: ownership moves that others act on at once. */
export type OwnershipAnnouncement =
  { kind: 'join'; workerId: string } | { kind: 'leave'; workerId: string } | { kind: 'release'; slot: number };

export function encodeAnnouncement(a: OwnershipAnnouncement): string {
  return a.kind === 'release' ? `release:${a.slot}` : `${a.kind}:${a.workerId}`;
}

export function decodeAnnouncement(message: string): OwnershipAnnouncement | undefined {
  const sep = message.indexOf(':');
  const kind = message.slice(0, sep);
  const value = message.slice(sep + 1);
  if (kind === 'release') {
    const slot = Number(value);
    return Number.isInteger(slot) && slot >= 0 ? { kind, slot } : undefined;
  }
  return (kind === 'join' || kind === 'leave') && value ? { kind, workerId: value } : undefined;
}

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
    const live = readTransaction('worker heartbeat', results)
      ?.at(2)
      .array()
      .map((member) => member.string());
    return (live ?? [workerId]).sort();
  }

  /** Workers that heartbeated within `ttlMs`. */
  async live(ttlMs: number, now: number = Date.now()): Promise<string[]> {
    return (await this.redis.zrangebyscore(RedisKeys.workers(), now - ttlMs, '+inf')).sort();
  }

  /** Leaves the ranking and says so, so the others re-rank now rather than at their next heartbeat. */
  async leave(workerId: string): Promise<void> {
    await this.redis.zrem(RedisKeys.workers(), workerId);
    await this.announce({ kind: 'leave', workerId });
  }

  async announce(a: OwnershipAnnouncement): Promise<void> {
    await this.redis.publish(RedisKeys.workersChannel(), encodeAnnouncement(a));
  }
}
