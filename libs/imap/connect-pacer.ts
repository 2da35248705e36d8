import { systemClock, type Clock } from './clock';

/**
 * Paces connection attempts through two token buckets: one for the whole worker and one per
 * provider host. After a restart every account wants to connect at once; the buckets turn that
 * stampede into a ramp (providers such as Yahoo answer bursts of logins with `NO [LIMIT]`, and a
 * worker's CPU goes into TLS handshakes). Waiters are served first come, first served within a
 * host, round robin across hosts, so one slow host does not hold up the others.
 */
export type PacerClock = Clock;

export interface PacingRates {
  /** Connects per second for the whole worker (bursts of one second's worth). */
  perWorker: number;
  /** Connects per second to any one host. */
  perHost: number;
}

class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly capacity: number,
    now: number,
  ) {
    this.tokens = capacity;
    this.updatedAt = now;
  }

  /** Milliseconds until a token is available (0: now). */
  waitMs(now: number): number {
    this.refill(now);
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) / this.ratePerSecond) * 1000);
  }

  take(now: number): void {
    this.refill(now);
    this.tokens -= 1;
  }

  full(now: number): boolean {
    this.refill(now);
    return this.tokens >= this.capacity;
  }

  private refill(now: number): void {
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.updatedAt) / 1000) * this.ratePerSecond);
    this.updatedAt = now;
  }
}

interface Waiter {
  grant(): void;
}

export class ConnectPacer {
  private readonly worker: TokenBucket;
  private readonly hosts = new Map<string, TokenBucket>();
  private readonly queues = new Map<string, Waiter[]>();
  private timer: unknown;
  private timerAt = Infinity;

  constructor(
    private readonly rates: PacingRates,
    private readonly clock: PacerClock = systemClock,
  ) {
    this.worker = new TokenBucket(rates.perWorker, Math.max(1, rates.perWorker), clock.now());
  }

  /** Resolves true when this attempt may connect to `host`, false if `signal` aborted the wait. */
  acquire(host: string, signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted) return Promise.resolve(false);
    const key = host.toLowerCase();
    return new Promise<boolean>((resolve) => {
      const onAbort = (): void => {
        const queue = this.queues.get(key);
        const i = queue?.indexOf(waiter) ?? -1;
        if (queue && i >= 0) queue.splice(i, 1);
        if (queue?.length === 0) this.queues.delete(key);
        resolve(false);
      };
      const waiter: Waiter = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve(true);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const queue = this.queues.get(key);
      if (queue) queue.push(waiter);
      else this.queues.set(key, [waiter]);
      this.pump();
    });
  }

  /** Attempts waiting for a token right now. */
  waiting(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }

  private pump(): void {
    const now = this.clock.now();
    let nextWake = Infinity;
    let progress = true;
    while (progress && this.queues.size > 0) {
      progress = false;
      for (const [key, queue] of this.queues) {
        const workerWait = this.worker.waitMs(now);
        if (workerWait > 0) {
          nextWake = Math.min(nextWake, workerWait);
          progress = false;
          break;
        }
        const bucket = this.hostBucket(key, now);
        const hostWait = bucket.waitMs(now);
        if (hostWait > 0) {
          nextWake = Math.min(nextWake, hostWait);
          continue;
        }
        const waiter = queue.shift();
        if (queue.length === 0) this.queues.delete(key);
        if (!waiter) continue;
        this.worker.take(now);
        bucket.take(now);
        waiter.grant();
        progress = true;
      }
    }
    this.forgetFullBuckets(now);
    if (this.queues.size > 0 && Number.isFinite(nextWake)) this.wakeIn(nextWake, now);
  }

  private hostBucket(key: string, now: number): TokenBucket {
    let bucket = this.hosts.get(key);
    if (!bucket) {
      bucket = new TokenBucket(this.rates.perHost, Math.max(1, this.rates.perHost), now);
      this.hosts.set(key, bucket);
    }
    return bucket;
  }

  /** A full bucket with nobody waiting is the same as no bucket: keeps memory to active hosts. */
  private forgetFullBuckets(now: number): void {
    for (const [key, bucket] of this.hosts) if (!this.queues.has(key) && bucket.full(now)) this.hosts.delete(key);
  }

  private wakeIn(ms: number, now: number): void {
    const at = now + ms;
    if (this.timer !== undefined && this.timerAt <= at) return;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.pump();
    }, ms);
  }
}
