import { ErrorClass, type ClassifiedError } from '../errors';

/** A connection that lived this long counts as healthy: its failure starts the backoff over. */
export const STABLE_CONNECTION_MS = 60_000;
/** Transient failures: 1 s, 2 s, 4 s … capped at 5 min, so an outage costs at most ~5 min extra. */
const TRANSIENT_BASE_MS = 1_000;
const TRANSIENT_CAP_MS = 5 * 60_000;
/** "Too many connections" / throttling: minutes, never less than the server asked for. */
const RATE_LIMIT_BASE_MS = 2 * 60_000;
const RATE_LIMIT_CAP_MS = 30 * 60_000;
/** Misconfiguration (TLS, unsupported server, forbidden host): retry rarely; a person must act. */
const PERMANENT_DELAY_MS = 30 * 60_000;

/**
 * Delay before reconnect attempt number `failures` (1-based). Jitter spreads the delay over
 * [50%, 100%] so that many accounts failing together do not come back together.
 */
export function reconnectDelayMs(failures: number, error: ClassifiedError | undefined, random: () => number = Math.random): number {
  const n = Math.max(1, failures);
  const jitter = (ms: number) => Math.round(ms * (0.5 + random() * 0.5));
  switch (error?.errorClass) {
    case ErrorClass.RateLimited: {
      const backoff = jitter(Math.min(RATE_LIMIT_CAP_MS, RATE_LIMIT_BASE_MS * 2 ** (n - 1)));
      return Math.max(backoff, error.retryAfterMs ?? 0);
    }
    case ErrorClass.Permanent:
      return jitter(PERMANENT_DELAY_MS);
    default:
      return jitter(Math.min(TRANSIENT_CAP_MS, TRANSIENT_BASE_MS * 2 ** (n - 1)));
  }
}
