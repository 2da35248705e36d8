import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '@mailpush/config';
import { BurstBudget } from '@mailpush/delivery';
import { RedisKeys } from '@mailpush/store';
import { makeAdminToken, makeMasterKey } from '../support/factories';
import { useRealRedis } from '../store/redis.fixture';

const BUDGET = 3;
const WINDOW_MS = 60_000;

describe('BurstBudget on a real Redis: the per-device window script', () => {
  const redis = useRealRedis();
  const budget = () =>
    new BurstBudget(
      redis.client,
      loadConfig({
        REDIS_URL: redis.url,
        MAILPUSH_MASTER_KEY: makeMasterKey(),
        MAILPUSH_ADMIN_TOKEN: makeAdminToken(),
        MAILPUSH_BURST_BUDGET: String(BUDGET),
        MAILPUSH_BURST_WINDOW_MS: String(WINDOW_MS),
      }),
    );

  it('notifies the first `budget` messages one by one and folds the rest into one summary', async () => {
    const now = 1_700_000_000_000;
    const decisions = [];
    for (let i = 1; i <= BUDGET + 2; i++) decisions.push(await budget().admit('dev_a', `m${i}`, 'acc_1', 1, now));
    assert.deepEqual(
      decisions.map((d) => d.notify),
      ['individually', 'individually', 'individually', 'in_summary', 'in_summary'],
    );
    assert.deepEqual(decisions.at(-1), { notify: 'in_summary', windowStart: now, summaryAt: now + WINDOW_MS });
    assert.deepEqual(await budget().summary('dev_a', now), { count: 2, accountId: 'acc_1' });
  });

  it('keeps the first rank of a message seen again (a retried fan-out), and counts it once', async () => {
    const now = 1_700_000_000_000;
    for (let i = 1; i <= BUDGET + 1; i++) await budget().admit('dev_b', `m${i}`, 'acc_1', 1, now);
    assert.equal((await budget().admit('dev_b', 'm1', 'acc_1', 1, now)).notify, 'individually');
    assert.equal((await budget().admit('dev_b', `m${BUDGET + 1}`, 'acc_1', 1, now)).notify, 'in_summary');
    assert.deepEqual(await budget().summary('dev_b', now), { count: 1, accountId: 'acc_1' });
  });

  it('sums the messages each held-back one stands for, and names no account when several were', async () => {
    const now = 1_700_000_000_000;
    for (let i = 1; i <= BUDGET; i++) await budget().admit('dev_c', `m${i}`, 'acc_1', 1, now);
    await budget().admit('dev_c', 'x1', 'acc_1', 4, now);
    await budget().admit('dev_c', 'x2', 'acc_2', 5, now);
    assert.deepEqual(await budget().summary('dev_c', now), { count: 9 });
  });

  it('has no summary for a window that held nothing back, or for one that never was', async () => {
    const now = 1_700_000_000_000;
    await budget().admit('dev_d', 'm1', 'acc_1', 1, now);
    assert.equal(await budget().summary('dev_d', now), undefined);
    assert.equal(await budget().summary('dev_none', now), undefined);
  });

  it('opens a new window once the last one is over, ranks starting again', async () => {
    const first = 1_700_000_000_000;
    for (let i = 1; i <= BUDGET + 1; i++) await budget().admit('dev_e', `m${i}`, 'acc_1', 1, first);
    await redis.client.del(RedisKeys.burstWindow('dev_e'));
    const later = first + WINDOW_MS + 1;
    assert.deepEqual(await budget().admit('dev_e', 'n1', 'acc_1', 1, later), {
      notify: 'individually',
      windowStart: later,
    });
    assert.deepEqual(await budget().summary('dev_e', first), { count: 1, accountId: 'acc_1' });
  });

  it('puts concurrent first messages in one window, with distinct ranks', async () => {
    const decisions = await Promise.all(
      Array.from({ length: BUDGET + 4 }, (_, i) => budget().admit('dev_f', `m${i}`, 'acc_1', 1, 1_700_000_000_000 + i)),
    );
    assert.equal(new Set(decisions.map((d) => d.windowStart)).size, 1, 'one window');
    assert.equal(decisions.filter((d) => d.notify === 'individually').length, BUDGET);
    const windowStart = decisions[0]?.windowStart ?? 0;
    assert.deepEqual(await budget().summary('dev_f', windowStart), { count: 4, accountId: 'acc_1' });
  });
});
