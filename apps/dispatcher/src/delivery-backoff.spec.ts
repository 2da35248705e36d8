import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deliveryBackoffMs } from './delivery-backoff';

describe('deliveryBackoffMs', () => {
  it('grows exponentially with jitter between half and all of the step, capped at 10 minutes', () => {
    assert.equal(
      deliveryBackoffMs(1, undefined, () => 0),
      1000,
    );
    assert.equal(
      deliveryBackoffMs(1, undefined, () => 0.999999),
      2000,
    );
    assert.equal(
      deliveryBackoffMs(3, undefined, () => 1),
      8000,
    );
    assert.equal(
      deliveryBackoffMs(30, undefined, () => 1),
      600_000,
    );
    const spread = new Set(Array.from({ length: 50 }, () => deliveryBackoffMs(4, undefined)));
    assert.ok(spread.size > 10, 'jittered: retries of a burst do not line up');
  });

  it('never retries sooner than a retry-after the service asked for', () => {
    assert.equal(
      deliveryBackoffMs(1, Object.assign(new Error('429'), { retryAfterMs: 2000 }), () => 0),
      2000,
    );
    assert.equal(
      deliveryBackoffMs(1, Object.assign(new Error('429'), { retryAfterMs: 30_000 }), () => 1),
      30_000,
    );
    assert.equal(
      deliveryBackoffMs(5, Object.assign(new Error('429'), { retryAfterMs: 10 }), () => 1),
      32_000,
    );
  });
});
