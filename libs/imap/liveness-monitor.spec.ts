import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LivenessMonitor } from './liveness-monitor';
import { FakeClock } from '../../test/support/fake-clock';

function harness(answer: 'now' | 'never' | 'fail') {
  const clock = new FakeClock();
  let received = 0;
  const probes: number[] = [];
  const deaths: { at: number; reason: string }[] = [];
  const monitor = new LivenessMonitor(
    { probeAfterMs: 90_000, probeTimeoutMs: 30_000 },
    {
      received: () => received,
      probe: () => {
        probes.push(clock.now());
        if (answer === 'now') {
          received += 20;
          return Promise.resolve();
        }
        return answer === 'fail' ? Promise.reject(new Error('closed')) : new Promise<void>(() => undefined);
      },
      dead: (reason) => deaths.push({ at: clock.now(), reason }),
    },
    clock,
  );
  return { clock, monitor, probes, deaths, traffic: (n = 1) => (received += n) };
}

describe('LivenessMonitor', () => {
  it('probes a silent connection after 90-105 s and keeps it while probes are answered', async () => {
    const h = harness('now');
    h.monitor.start();
    await h.clock.advance(89_000);
    assert.equal(h.probes.length, 0);
    await h.clock.advance(16_000);
    assert.equal(h.probes.length, 1);
    assert.ok(h.probes[0]! >= 90_000 && h.probes[0]! <= 105_000);
    await h.clock.advance(10 * 60_000);
    assert.ok(h.probes.length >= 5);
    assert.equal(h.deaths.length, 0);
  });

  it('never probes while the server keeps talking', async () => {
    const h = harness('now');
    h.monitor.start();
    for (let i = 0; i < 40; i += 1) {
      h.traffic();
      await h.clock.advance(30_000);
    }
    assert.equal(h.probes.length, 0);
  });

  it('declares a black hole dead within probeAfter + sample + probeTimeout (at most 135 s with the defaults)', async () => {
    const h = harness('never');
    h.monitor.start();
    h.traffic();
    await h.clock.advance(1_000);
    await h.clock.advance(200_000);
    assert.equal(h.deaths.length, 1);
    assert.equal(h.deaths[0]?.reason, 'probe_timeout');
    assert.ok(h.deaths[0]!.at <= 135_000, `dead at ${h.deaths[0]!.at}`);
    assert.equal(h.probes.length, 1, 'one probe, then it gives up');
  });

  it('reports a probe that fails outright', async () => {
    const h = harness('fail');
    h.monitor.start();
    await h.clock.advance(120_000);
    assert.deepEqual(
      h.deaths.map((d) => d.reason),
      ['probe_failed'],
    );
  });

  it('stays quiet after stop()', async () => {
    const h = harness('never');
    h.monitor.start();
    h.monitor.stop();
    await h.clock.advance(300_000);
    assert.equal(h.probes.length, 0);
    assert.equal(h.deaths.length, 0);
  });
});
