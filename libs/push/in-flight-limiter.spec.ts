import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InFlightLimiter } from './in-flight-limiter';

describe('InFlightLimiter', () => {
  it('never runs more than its limit at once, and runs everything', async () => {
    const limiter = new InFlightLimiter(3);
    let running = 0;
    let peak = 0;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        limiter
          .run(async () => {
            running++;
            peak = Math.max(peak, running);
            await new Promise((resolve) => setImmediate(resolve));
            running--;
            if (i === 7) throw new Error('one fails');
            return i;
          })
          .catch(() => -1),
      ),
    );
    assert.equal(peak, 3);
    assert.equal(results.filter((r) => r >= 0).length, 19);
    assert.equal(limiter.inFlight, 0, 'a failure gives its slot back');
  });
});
