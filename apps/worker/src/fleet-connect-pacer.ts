import type { Redis } from 'ioredis';
import type { ConnectPacer } from '@mailpush/imap';
import { createLogger } from '@mailpush/logging';
import { RedisKeys, RedisScript } from '@mailpush/store';

const log = createLogger('pacer');

/**
 * A token bucket in Redis, refilled by the server's clock (every worker sees the same time): how
 * many of the tokens asked for it gave and, if fewer, how long until the next. Capacity is one
 * second's worth, like the local buckets.
 */
const TAKE = new RedisScript(__dirname, 'fleet-connect-take', 1, (reply) => {
  const [granted, waitMs] = reply.array(2);
  return { granted: granted.integer(), waitMs: waitMs.integer() };
});

/** Takes up to `want` tokens from a host's fleet-wide bucket (`rate` per second, holding at most `burst`). */
export function takeConnectTokens(
  redis: Redis,
  host: string,
  bucket: { rate: number; burst: number; want: number },
): Promise<{ granted: number; waitMs: number }> {
  return TAKE.run(redis, [RedisKeys.connectBucket(host)], [bucket.rate, bucket.burst, bucket.want]);
}

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
          ({ granted, waitMs } = await takeConnectTokens(this.redis, key, {
            rate: this.perHostFleet,
            burst: this.burst,
            want: queue.length,
          }));
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
