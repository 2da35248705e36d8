import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConnectPacer } from './connect-pacer';
import { FakeClock, settled } from '../../test/support/fake-clock';

describe('ConnectPacer', () => {
  it('turns a stampede into a ramp: a burst of one second, then the rate', async () => {
    const clock = new FakeClock();
    const pacer = new ConnectPacer({ perWorker: 10, perHost: 100 }, clock);
    const granted: number[] = [];
    for (let i = 0; i < 30; i += 1) void pacer.acquire(`host${i % 7}.example`).then(() => granted.push(clock.now()));
    await settled();
    assert.equal(granted.length, 10, 'one second worth at once');
    await clock.advance(1_000);
    await settled();
    assert.equal(granted.length, 20);
    await clock.advance(1_000);
    await settled();
    assert.equal(granted.length, 30);
    assert.equal(pacer.waiting(), 0);
  });

  it('paces each provider host on its own, without holding up other hosts', async () => {
    const clock = new FakeClock();
    const pacer = new ConnectPacer({ perWorker: 1_000, perHost: 2 }, clock);
    const gmail: number[] = [];
    const other: number[] = [];
    for (let i = 0; i < 6; i += 1) void pacer.acquire('IMAP.gmail.com').then(() => gmail.push(clock.now()));
    for (let i = 0; i < 2; i += 1) void pacer.acquire('imap.fastmail.com').then(() => other.push(clock.now()));
    await settled();
    assert.deepEqual(other, [0, 0]);
    assert.deepEqual(gmail, [0, 0]);
    await clock.advance(2_000);
    await settled();
    assert.deepEqual(gmail, [0, 0, 500, 1_000, 1_500, 2_000]);
  });

  it('lets an aborted wait go without taking a token', async () => {
    const clock = new FakeClock();
    const pacer = new ConnectPacer({ perWorker: 1, perHost: 1 }, clock);
    assert.equal(await pacer.acquire('h'), true);
    const abort = new AbortController();
    const waiting = pacer.acquire('h', abort.signal);
    const next = pacer.acquire('h');
    abort.abort();
    assert.equal(await waiting, false);
    await clock.advance(1_000);
    assert.equal(await next, true);
    assert.equal(await pacer.acquire('h', AbortSignal.abort()), false);
  });
});
