/** Time source for the pacer and the liveness monitor, so their specs can drive time by hand. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Real time; timers never keep the process alive on their own. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** Runs `fn` every `ms` (like setInterval) until the returned function is called. */
export function repeat(clock: Clock, ms: number, fn: () => void): () => void {
  let handle: unknown;
  const arm = (): void => {
    handle = clock.setTimeout(() => {
      arm();
      fn();
    }, ms);
  };
  arm();
  return () => clock.clearTimeout(handle);
}
