import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planCatchUp } from './catch-up-plan';

const rows = (uids: number[], seen: number[] = []) => uids.map((uid) => ({ uid, seen: seen.includes(uid) }));
const opts = { notifySeen: false, summaryThreshold: 5 };

describe('planCatchUp', () => {
  it('notifies up to the bound one by one, in UID order', () => {
    assert.deepEqual(planCatchUp(9, rows([13, 11, 12, 14, 15]), opts), {
      kind: 'messages',
      uids: [11, 12, 13, 14, 15],
      coversUpTo: 15,
    });
  });

  it('turns more than the bound into one summary covering the notifiable range', () => {
    assert.deepEqual(planCatchUp(9, rows([11, 12, 13, 14, 15, 16, 17]), opts), {
      kind: 'summary',
      summary: { uidValidity: 9, firstUid: 11, lastUid: 17, count: 7, coversUpTo: 17 },
    });
  });

  it('skips \\Seen messages (they do not count towards the bound) but moves the cursor past them', () => {
    assert.deepEqual(planCatchUp(9, rows([11, 12, 13], [11, 13]), opts), {
      kind: 'messages',
      uids: [12],
      coversUpTo: 13,
    });
    assert.deepEqual(planCatchUp(9, rows([11, 12], [11, 12]), opts), { kind: 'none', coversUpTo: 12 });
    const many = rows([1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 8]);
    assert.equal(planCatchUp(9, many, opts).kind, 'messages');
    assert.deepEqual(planCatchUp(9, many, { ...opts, notifySeen: true }), {
      kind: 'summary',
      summary: { uidValidity: 9, firstUid: 1, lastUid: 8, count: 8, coversUpTo: 8 },
    });
  });

  it('has nothing to do for nothing new', () => {
    assert.deepEqual(planCatchUp(9, [], opts), { kind: 'none', coversUpTo: 0 });
  });
});
