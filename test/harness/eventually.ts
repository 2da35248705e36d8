import { setTimeout as delay } from 'node:timers/promises';

export interface EventuallyOptions {
  /** Give up after this long. Default 10 s. */
  timeoutMs?: number;
  /** Pause between attempts. Default 25 ms. */
  intervalMs?: number;
  /** Prefixed to the last error's message on timeout. */
  message?: string;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_INTERVAL_MS = 25;

/**
 * Calls `fn` until it returns without throwing and resolves with its result. On timeout it
 * rethrows the last error (an AssertionError keeps its diff), its message prefixed with `message`.
 * An attempt still pending at the deadline counts as a failure, so a hung `fn` cannot hang a test.
 */
export async function eventually<T>(fn: () => T | Promise<T>, opts: EventuallyOptions = {}): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const intervalMs = opts.intervalMs ?? DEFAULT_INTERVAL_MS;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown = undefined;
  let attempts = 0;
  for (;;) {
    attempts++;
    const outcome = await attempt(fn, deadline - Date.now());
    if (outcome.ok) return outcome.value;
    // A last attempt cut short by the deadline says less than the failure before it.
    if (!(outcome.error instanceof PendingAtDeadline) || lastError === undefined) lastError = outcome.error;
    const remaining = deadline - Date.now();
    if (remaining <= 0) break;
    await delay(Math.min(intervalMs, remaining));
  }
  throw timeoutError(
    lastError,
    `${opts.message ?? 'eventually'}: still failing after ${timeoutMs} ms and ${attempts} attempts`,
  );
}

class PendingAtDeadline extends Error {
  constructor() {
    super('attempt still pending at the deadline');
  }
}

type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

async function attempt<T>(fn: () => T | Promise<T>, remainingMs: number): Promise<Outcome<T>> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<Outcome<T>>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, error: new PendingAtDeadline() }), Math.max(remainingMs, 0));
  });
  const run = (async (): Promise<Outcome<T>> => {
    try {
      return { ok: true, value: await fn() };
    } catch (error) {
      return { ok: false, error };
    }
  })();
  try {
    return await Promise.race([run, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

function timeoutError(lastError: unknown, prefix: string): Error {
  if (lastError instanceof Error) {
    const original = lastError.message;
    // Read first: V8 formats `stack` lazily, from the message at the time of the first read.
    const stack = lastError.stack;
    lastError.message = `${prefix}: ${original}`;
    if (typeof stack === 'string') lastError.stack = stack.replace(original, lastError.message);
    return lastError;
  }
  return new Error(`${prefix}: ${String(lastError)}`, { cause: lastError });
}
