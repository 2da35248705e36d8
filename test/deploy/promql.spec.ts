import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { metricNames } from './promql';

describe('metricNames (PromQL)', () => {
  it('finds the selectors and nothing else', () => {
    assert.deepEqual(
      metricNames(
        'histogram_quantile(0.95, sum by (le, route) (rate(mailpush_http_request_duration_seconds_bucket{route!="/v1/events"}[$__rate_interval])))',
      ),
      ['mailpush_http_request_duration_seconds_bucket'],
    );
    assert.deepEqual(
      metricNames(
        'sum(increase(a_total[1h])) > 10 and sum(increase(a_total[1h])) > 0.01 * sum(max by (status) (b_gauge))',
      ),
      ['a_total', 'b_gauge'],
    );
    assert.deepEqual(metricNames('absent(c_ts) or time() - max(c_ts) > 120'), ['c_ts']);
    assert.deepEqual(metricNames('max(redis_memory_used_bytes / (redis_memory_max_bytes > 0)) > 0.8'), [
      'redis_memory_used_bytes',
      'redis_memory_max_bytes',
    ]);
  });
});
