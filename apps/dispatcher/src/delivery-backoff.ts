/** First retry after ~2 s, doubling to a 10 min cap: 8 attempts span roughly 20 minutes. */
const BASE_MS = 2_000;
const CAP_MS = 10 * 60_000;

/**
 * BullMQ custom backoff for deliveries: honours a push service's Retry-After when the error
 * carries one, otherwise jittered exponential backoff.
 */
export function deliveryBackoffMs(attemptsMade: number, err: unknown, random: () => number = Math.random): number {
  const exponential = Math.min(CAP_MS, BASE_MS * 2 ** Math.max(0, attemptsMade - 1));
  const jittered = Math.round(exponential * (0.5 + random() * 0.5));
  const retryAfter = typeof err === 'object' && err !== null && 'retryAfterMs' in err ? err.retryAfterMs : undefined;
  return typeof retryAfter === 'number' && retryAfter > 0 ? Math.max(retryAfter, jittered) : jittered;
}
