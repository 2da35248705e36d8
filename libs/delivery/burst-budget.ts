import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { APP_CONFIG, type AppConfig } from '@mailpush/config';
import { REDIS, RedisKeys, RedisScript } from '@mailpush/store';

/**
 * Admits one message into a device's current window: its rank in the window, or the window the
 * caller should have expected (null: none) when it rolled over meanwhile.
 */
type Admission = { admitted: true; rank: number } | { admitted: false; actual: string | null };

const ADMIT = new RedisScript(__dirname, 'burst-admit', 2, (reply): Admission => {
  const [rank, actual] = reply.array(2);
  const n = rank.integer();
  if (n === -1) return { admitted: false, actual: actual.string() || null };
  if (n < 1) return rank.fail('a rank (1 or more) or -1');
  return { admitted: true, rank: n };
});

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
      const admitted = await ADMIT.run(
        this.redis,
        [pointer, RedisKeys.burstCounts(deviceId, windowStart)],
        [expected ?? '', windowStart, windowMs, messageKey, budget, count, accountId, windowMs + COUNTS_GRACE_MS],
      );
      if (!admitted.admitted) {
        expected = admitted.actual;
        continue;
      }
      return admitted.rank <= budget
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
