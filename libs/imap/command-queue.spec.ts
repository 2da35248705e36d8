import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CommandQueue } from './command-queue';

function deferred(): { promise: Promise<void>; resolve(): void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('CommandQueue', () => {
  it('runs tasks one at a time, in order, and counts them until each settles', async () => {
    const q = new CommandQueue(
      () => false,
      () => undefined,
    );
    const order: string[] = [];
    const first = deferred();
    void q.enqueue(async () => {
      order.push('a start');
      await first.promise;
      order.push('a end');
    });
    const second = q.enqueue(async () => {
      order.push('b');
    });
    await Promise.resolve();
    assert.equal(q.pending, 2);
    first.resolve();
    await second;
    assert.deepEqual(order, ['a start', 'a end', 'b']);
    assert.equal(q.pending, 0);
  });

  it('joins a coalesced request to one still queued; a later request runs again', async () => {
    const q = new CommandQueue(
      () => false,
      () => undefined,
    );
    let runs = 0;
    const gate = deferred();
    void q.enqueue(() => gate.promise);
    q.enqueueCoalesced(async () => void (runs += 1));
    q.enqueueCoalesced(async () => void (runs += 1));
    gate.resolve();
    await q.drained();
    assert.equal(runs, 1);
    q.enqueueCoalesced(async () => void (runs += 1));
    await q.drained();
    assert.equal(runs, 2);
  });

  it('drained() waits for a tracked command too; a failed task goes to onError, the queue goes on', async () => {
    const errors: unknown[] = [];
    const q = new CommandQueue(
      () => false,
      (err) => errors.push(err),
    );
    const probe = deferred();
    void q.track(probe.promise);
    void q.enqueue(() => Promise.reject(new Error('boom')));
    let drained = false;
    const waiting = q.drained().then(() => (drained = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(drained, false);
    probe.resolve();
    await waiting;
    assert.equal(errors.length, 1);
  });

  it('skips queued tasks once cancelled, and wake() releases drained() waiters', async () => {
    let over = false;
    const q = new CommandQueue(
      () => over,
      () => undefined,
    );
    let ran = false;
    const hold = deferred();
    void q.track(hold.promise);
    const waiting = q.drained();
    over = true;
    void q.enqueue(async () => void (ran = true));
    q.wake();
    await waiting;
    await q.enqueue(async () => void (ran = true));
    assert.equal(ran, false);
    hold.resolve();
  });
});
