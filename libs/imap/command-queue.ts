/**
 * A connection's own commands, one at a time. Counts what is pending (queued tasks and tracked
 * commands such as the liveness probe) so the IDLE loop can stay out of IDLE until all is done.
 */
export class CommandQueue {
  private tail: Promise<void> = Promise.resolve();
  private pendingCount = 0;
  private readonly drainWaiters: (() => void)[] = [];
  /** A coalesced task is queued and has not started yet: another request joins it. */
  private coalescedQueued = false;

  constructor(
    /** True once the connection is over: queued tasks are skipped. */
    private readonly cancelled: () => boolean,
    /** A task failed (it is not retried: the cursor did not move past it). */
    private readonly onError: (err: unknown) => void,
  ) {}

  get pending(): number {
    return this.pendingCount;
  }

  enqueue(task: () => Promise<void>): Promise<void> {
    this.pendingCount += 1;
    const run = this.tail.then(() => (this.cancelled() ? undefined : task()));
    this.tail = run.catch((err: unknown) => this.onError(err)).finally(() => this.settle());
    return this.tail;
  }

  /** Queues `task` unless one queued this way has not started yet. */
  enqueueCoalesced(task: () => Promise<void>): void {
    if (this.coalescedQueued) return;
    this.coalescedQueued = true;
    void this.enqueue(() => {
      this.coalescedQueued = false;
      return task();
    });
  }

  /** A command outside the queue that must still keep the IDLE loop waiting. */
  track<T>(command: Promise<T>): Promise<T> {
    this.pendingCount += 1;
    return command.finally(() => this.settle());
  }

  /** Resolves once nothing is pending, or the connection is over. */
  async drained(): Promise<void> {
    while (this.pendingCount > 0 && !this.cancelled())
      await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
  }

  /** Wakes every `drained()` waiter to look again (the connection is over). */
  wake(): void {
    for (const wake of this.drainWaiters.splice(0)) wake();
  }

  private settle(): void {
    this.pendingCount -= 1;
    if (this.pendingCount === 0) this.wake();
  }
}
