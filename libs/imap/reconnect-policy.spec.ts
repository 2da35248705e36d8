import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorClass, type ClassifiedError } from '@mailpush/errors';
import { ReconnectBackoff, STABLE_CONNECTION_MS, reconnectDelayMs } from './reconnect-policy';

const transient: ClassifiedError = { errorClass: ErrorClass.Transient, code: 'connect_failed', message: 'x' };
const limited: ClassifiedError = { errorClass: ErrorClass.RateLimited, code: 'rate_limited', message: 'x' };
const settings = { baseMs: 1_000, maxMs: 300_000 };
const top = () => 1;
const bottom = () => 0;

describe('reconnectDelayMs', () => {
  it('retries transient failures quickly, doubling up to the cap, jittered over [50%, 100%]', () => {
    assert.equal(reconnectDelayMs(1, transient, settings, top), 1_000);
    assert.equal(reconnectDelayMs(1, transient, settings, bottom), 500);
    assert.equal(reconnectDelayMs(4, transient, settings, top), 8_000);
    assert.equal(reconnectDelayMs(30, transient, settings, top), 300_000);
    assert.equal(reconnectDelayMs(1_000, transient, settings, top), 300_000, 'no overflow on long outages');
  });

  it('backs off for minutes when rate-limited, and at least as long as the server asked', () => {
    assert.ok(reconnectDelayMs(1, limited, settings, bottom) >= 60_000);
    assert.equal(reconnectDelayMs(1, limited, settings, top), 120_000);
    assert.equal(reconnectDelayMs(10, limited, settings, top), 30 * 60_000);
    assert.equal(reconnectDelayMs(1, { ...limited, retryAfterMs: 45 * 60_000 }, settings, top), 45 * 60_000);
  });

  it('retries permanent failures (TLS, forbidden host) only rarely', () => {
    const permanent: ClassifiedError = { errorClass: ErrorClass.Permanent, code: 'tls_failed', message: 'x' };
    assert.ok(reconnectDelayMs(1, permanent, settings, bottom) >= 15 * 60_000);
  });
});

describe('ReconnectBackoff', () => {
  it('keeps climbing when connections die soon after connecting', () => {
    let now = 0;
    const backoff = new ReconnectBackoff(settings, () => now, top);
    const delays: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      backoff.ready();
      now += 5_000;
      delays.push(backoff.failed(transient));
    }
    assert.deepEqual(delays, [1_000, 2_000, 4_000, 8_000, 16_000]);
  });

  it('starts over after a connection that stayed up', () => {
    let now = 0;
    const backoff = new ReconnectBackoff(settings, () => now, top);
    backoff.failed(transient);
    backoff.failed(transient);
    backoff.ready();
    now += STABLE_CONNECTION_MS;
    assert.equal(backoff.failed(transient), 1_000);
    assert.equal(backoff.consecutiveFailures, 1);
  });

  it('does not count time spent failing to connect as uptime', () => {
    let now = 0;
    const backoff = new ReconnectBackoff(settings, () => now, top);
    backoff.ready();
    backoff.failed(transient);
    now += 10 * STABLE_CONNECTION_MS;
    assert.equal(backoff.failed(transient), 2_000, 'never ready since the last failure');
  });
});
