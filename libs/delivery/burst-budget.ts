import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { APP_CONFIG, type AppConfig } from '@mailpush/config';
import { REDIS, RedisKeys } from '@mailpush/store';

/**
 * Admits one message into a device's current window. The window starts with the first message
 * and lasts `windowMs`; the first `budget` messages are notified one by one, the rest are counted
 * for one summary. A message seen again (a retried fan-out) keeps its first rank.
 * Returns {rank, ''} or, when the window is not the one the caller expected, {-1, actual start}.
 */
const ADMIT = `
local cur = redis.call('GET', KEYS[1])
if ARGV[1] == '' then
  if cur then return {-1, cur} end
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
elseif cur ~= ARGV[1] then
  return {-1, cur or ''}
end
local field = 'm:' .. ARGV[4]
local rank = tonumber(redis.call('HGET', KEYS[2], field))
if not rank then
  rank = redis.call('HINCRBY', KEYS[2], 'n', 1)
  redis.call('HSET', KEYS[2], field, rank)
  if rank > tonumber(ARGV[5]) then
    redis.call('HINCRBY', KEYS[2], 'suppressed', ARGV[6])
    local acc = redis.call('HGET', KEYS[2], 'account')
    if not acc then redis.call('HSET', KEYS[2], 'account', ARGV[7])
    elseif acc ~= ARGV[7] then redis.call('HSET', KEYS[2], 'account', '*') end
  end
  redis.call('PEXPIRE', KEYS[2], ARGV[8])
end
return {rank, ''}`;

/** A window's counts outlive it long enough for a summary delayed by a dispatcher outage. */
const COUNTS_GRACE_MS = 24 * 3600_000;
/** Optimistic rounds against a window that rolls over meanwhile. */
const MAX_ROUNDS = 3;

export type BurstDecision =
  | { notify: 'individually'; windowStart: number }
  /** Folded into the window's summary, due at `summaryAt`. */
  | { notify: 'in_summary'; windowStart: number; summaryAt: number };

/**
 * Per-device notification budget. 200 messages landing in a few seconds must not become 200
 * buzzes (nor break FCM's per-device limit of 240/min): each device gets the first `budget`
 * messages of a window one by one, then one "N new messages" when the window closes.
 */
@Injectable()
export class BurstBudget {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async admit(
    deviceId: string,
    messageKey: string,
    accountId: string,
    count = 1,
    now = Date.now(),
  ): Promise<BurstDecision> {
    const { budget, windowMs } = this.config.push.burst;
    const pointer = RedisKeys.burstWindow(deviceId);
    let expected = await this.redis.get(pointer);
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const windowStart = expected ? Number(expected) : now;
      const [rank, actual] = (await this.redis.eval(
        ADMIT,
        2,
        pointer,
        RedisKeys.burstCounts(deviceId, windowStart),
        expected ?? '',
        String(windowStart),
        String(windowMs),
        messageKey,
        String(budget),
        String(count),
        accountId,
        String(windowMs + COUNTS_GRACE_MS),
      )) as [number, string];
      if (rank === -1) {
        expected = actual === '' ? null : actual;
        continue;
      }
      return rank <= budget
        ? { notify: 'individually', windowStart }
        : { notify: 'in_summary', windowStart, summaryAt: windowStart + windowMs };
    }
    // The window kept rolling over under us: notifying is the safe side.
    return { notify: 'individually', windowStart: now };
  }

  /**
   * Admits one message into the windows of several devices at once: the calls go out together
   * (auto-pipelined), so a user's devices cost a couple of round trips, not a couple each.
   */
  async admitAll(
    deviceIds: readonly string[],
    messageKey: string,
    accountId: string,
    count = 1,
    now = Date.now(),
  ): Promise<BurstDecision[]> {
    return Promise.all(deviceIds.map((deviceId) => this.admit(deviceId, messageKey, accountId, count, now)));
  }

  /** What a closed window's summary covers; undefined when nothing was held back (or it expired). */
  async summary(deviceId: string, windowStart: number): Promise<{ count: number; accountId?: string } | undefined> {
    const [suppressed, account] = await this.redis.hmget(
      RedisKeys.burstCounts(deviceId, windowStart),
      'suppressed',
      'account',
    );
    const count = Number(suppressed ?? 0);
    if (!Number.isInteger(count) || count <= 0) return undefined;
    return account && account !== '*' ? { count, accountId: account } : { count };
  }
}
