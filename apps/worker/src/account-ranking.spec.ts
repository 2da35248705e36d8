import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rankedOwner } from './account-ranking';

const accounts = Array.from({ length: 2000 }, (_, i) => `acc_${i.toString(16).padStart(20, '0')}`);

describe('rankedOwner', () => {
  it('is deterministic and independent of member order', () => {
    for (const id of accounts.slice(0, 50)) {
      assert.equal(rankedOwner(id, ['w1', 'w2', 'w3']), rankedOwner(id, ['w3', 'w1', 'w2']));
    }
    assert.equal(rankedOwner('acc_x', []), undefined);
  });

  it('spreads accounts evenly', () => {
    const counts = new Map<string, number>();
    for (const id of accounts) {
      const owner = rankedOwner(id, ['w1', 'w2', 'w3', 'w4'])!;
      counts.set(owner, (counts.get(owner) ?? 0) + 1);
    }
    for (const n of counts.values()) assert.ok(n > 400 && n < 600, `uneven spread: ${[...counts.values()].join(',')}`);
  });

  it('moves only the accounts of a worker that joins or leaves', () => {
    const before = accounts.map((id) => rankedOwner(id, ['w1', 'w2', 'w3']));
    const joined = accounts.map((id) => rankedOwner(id, ['w1', 'w2', 'w3', 'w4']));
    const moved = accounts.filter((_, i) => before[i] !== joined[i]);
    assert.ok(
      moved.every((id) => rankedOwner(id, ['w1', 'w2', 'w3', 'w4']) === 'w4'),
      'only the newcomer gains accounts',
    );
    assert.ok(moved.length > 350 && moved.length < 650, `about a quarter should move, moved ${moved.length}`);
    const left = accounts.map((id) => rankedOwner(id, ['w1', 'w3']));
    accounts.forEach((_, i) => {
      if (before[i] !== 'w2') assert.equal(left[i], before[i], 'accounts of the survivors stay put');
    });
  });
});
