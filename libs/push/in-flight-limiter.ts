/**
 * Bounds the requests one transport has in flight (a semaphore): a push service sees a steady
 * number of concurrent requests from each process however many deliveries the queue hands out.
 */
export class InFlightLimiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error('in-flight limit must be a positive integer');
  }

  get inFlight(): number {
    return this.active;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter, so `active` never over-counts.
      if (next) next();
      else this.active--;
    }
  }
}
