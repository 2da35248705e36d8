import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BoundedLabel } from './bounded-label';

describe('BoundedLabel', () => {
  it('passes the first distinct values, then folds new ones into "other"', () => {
    const label = new BoundedLabel(2);
    assert.equal(label.value('unregistered'), 'unregistered');
    assert.equal(label.value('too_many_requests'), 'too_many_requests');
    assert.equal(label.value('bad_device_token'), 'other');
    assert.equal(label.value('unregistered'), 'unregistered', 'a value seen before keeps passing');
  });

  it('never passes a value that is not a plain code', () => {
    const label = new BoundedLabel();
    assert.equal(label.value('x'.repeat(65)), 'other');
    assert.equal(label.value('a b'), 'other');
    assert.equal(label.value('{"quoted":1}'), 'other');
  });
});
