import { ErrorClass, type ClassifiedError } from '@mailpush/errors';

/**
 * A connection that stayed up (logged in, INBOX selected) this long counts as healthy: its failure
 * starts the backoff over. One that dies sooner keeps climbing, so a server that accepts and then
 * drops us at once is not hammered at the base delay.
 */
export const STABLE_CONNECTION_MS = 60_000;
/** Transient failures by default: 1 s, 2 s, 4 s … capped at 5 min (MAILPUSH_RECONNECT_BASE_MS / _MAX_MS). */
export const DEFAULT_BACKOFF: BackoffSettings = { baseMs: 1_000, maxMs: 5 * 60_000 };
/** "Too many connections" / throttling: minutes, never less than the server asked for. */
const RATE_LIMIT_BASE_MS = 2 * 60_000;
const RATE_LIMIT_CAP_MS = 30 * 60_000;
/** Misconfiguration (TLS, unsupported server, forbidden host): retry rarely; a person must act. */
const PERMANENT_DELAY_MS = 30 * 60_000;

export interface BackoffSettings {
  baseMs: number;
  maxMs: number;
}

/**
 * Delay before reconnect attempt number `failures` (1-based). Jitter spreads the delay over
 * [50%, 100%] so that many accounts failing together do not come back together. Authentication
 * failures never get here: they stop the account.
 */
export function reconnectDelayMs(
  failures: number,
  error: ClassifiedError | undefined,
  settings: BackoffSettings = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  const n = Math.min(Math.max(1, failures), 32);
  const jitter = (ms: number) => Math.round(ms * (0.5 + random() * 0.5));
  switch (error?.errorClass) {
    case ErrorClass.RateLimited: {
      const backoff = jitter(Math.min(RATE_LIMIT_CAP_MS, RATE_LIMIT_BASE_MS * 2 ** (n - 1)));
      return Math.max(backoff, error.retryAfterMs ?? 0);
    }
    case ErrorClass.Permanent:
      return jitter(PERMANENT_DELAY_MS);
    default:
      return jitter(Math.min(settings.maxMs, settings.baseMs * 2 ** (n - 1)));
  }
}

/** One account's reconnect backoff across its connections. */
export class ReconnectBackoff {
  private failures = 0;
  private readySince: number | undefined;

  constructor(
    private readonly settings: BackoffSettings,
    private readonly now: () => number = Date.now,
    private readonly random: () => number = Math.random,
  ) {}

  /** The connection became usable (logged in, INBOX open). */
  ready(): void {
    this.readySince = this.now();
  }

  /** The connection ended (or never came up): how long to wait before the next attempt. */
  failed(error: ClassifiedError | undefined): number {
    if (this.readySince !== undefined && this.now() - this.readySince >= STABLE_CONNECTION_MS) this.failures = 0;
    this.readySince = undefined;
    this.failures += 1;
    return reconnectDelayMs(this.failures, error, this.settings, this.random);
  }

  get consecutiveFailures(): number {
    return this.failures;
  }
}
