import type { Redis } from 'ioredis';
import type { ConnectPacer } from '@mailpush/imap';
import { createLogger } from '@mailpush/logging';
import { LuaScript, RedisKeys } from '@mailpush/store';

const log = createLogger('pacer');

/**
 * A token bucket in Redis, refilled by the server's clock (every worker sees the same time): takes
 * up to ARGV[3] tokens, answers how many it gave and, if fewer than asked, how long until the next.
 * Capacity is one second's worth, like the local buckets.
 */
const TAKE = new LuaScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local tokens = tonumber(redis.call('HGET', KEYS[1], 't') or ARGV[2])
local at = tonumber(redis.call('HGET', KEYS[1], 'at') or now)
tokens = math.min(burst, tokens + math.max(0, now - at) * rate / 1000)
local granted = math.min(want, math.floor(tokens))
tokens = tokens - granted
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
local wait = 0
if granted < want then wait = math.ceil((1 - tokens) * 1000 / rate) end
return {granted, wait}`);

interface Waiter {
  grant(ok: boolean): void;
  signal?: AbortSignal;
}

/**
 * Paces connects per provider host across the whole fleet: after the worker's own buckets
 * (ConnectPacer: per worker and per host), every connect takes a token from the host's bucket in
 * Redis, so adding workers never multiplies the login rate a provider sees. One request at a time
 * per host asks for as many tokens as there are waiters. If Redis cannot be reached, the local
 * buckets alone pace (a Redis outage must not stop reconnects).
 */
export class FleetConnectPacer {
  private readonly queues = new Map<string, Waiter[]>();
  private readonly pumping = new Set<string>();
  private readonly burst: number;
  private warned = false;

  constructor(
    private readonly local: Pick<ConnectPacer, 'acquire'>,
    private readonly redis: Redis,
    private readonly perHostFleet: number,
  ) {
    this.burst = Math.max(1, Math.floor(perHostFleet));
  }

  async acquire(host: string, signal?: AbortSignal): Promise<boolean> {
    if (!(await this.local.acquire(host, signal))) return false;
    if (signal?.aborted) return false;
    const key = host.toLowerCase();
    return new Promise<boolean>((resolve) => {
      const waiter: Waiter = { grant: resolve, ...(signal ? { signal } : {}) };
      signal?.addEventListener('abort', () => resolve(false), { once: true });
      const queue = this.queues.get(key);
      if (queue) queue.push(waiter);
      else this.queues.set(key, [waiter]);
      void this.pump(key);
    });
  }

  private async pump(key: string): Promise<void> {
    if (this.pumping.has(key)) return;
    this.pumping.add(key);
    try {
      for (;;) {
        const queue = (this.queues.get(key) ?? []).filter((w) => !w.signal?.aborted);
        if (queue.length === 0) {
          this.queues.delete(key);
          return;
        }
        this.queues.set(key, queue);
        let granted: number;
        let waitMs: number;
        try {
          [granted, waitMs] = (await TAKE.run(
            this.redis,
            [RedisKeys.connectBucket(key)],
            [this.perHostFleet, this.burst, queue.length],
          )) as [number, number];
          this.warned = false;
        } catch (err) {
          if (!this.warned) log.warn('fleet-wide pacing unavailable; pacing by this worker alone', { err });
          this.warned = true;
          granted = queue.length;
          waitMs = 0;
        }
        for (const waiter of queue.splice(0, granted)) waiter.grant(true);
        if (queue.length > 0 && waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs).unref());
      }
    } finally {
      this.pumping.delete(key);
    }
  }
}
