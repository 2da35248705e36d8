import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ScriptReplyError } from './redis-script';
import { readTransaction } from './transaction-replies';

describe('transaction replies', () => {
  it('reads each command reply through the typed accessors', () => {
    const replies = readTransaction('lookup', [
      [null, 'usr_a'],
      [null, 1500],
      [null, null],
    ]);
    assert.equal(replies?.at(0).string(), 'usr_a');
    assert.equal(replies?.at(1).integer(), 1500);
    assert.equal(replies?.at(2).stringOrNull(), null);
  });

  it('answers null for an aborted transaction', () => {
    assert.equal(readTransaction('lookup', null), null);
  });

  it('throws a failed command its own error', () => {
    const wrongType = new Error('WRONGTYPE Operation against a key holding the wrong kind of value');
    const replies = readTransaction('lookup', [
      [null, 'usr_a'],
      [wrongType, undefined],
    ]);
    assert.throws(
      () => replies?.at(1),
      (err: unknown) => err === wrongType,
    );
  });

  it('throws ScriptReplyError for a reply of another type, or a command that is not there', () => {
    const replies = readTransaction('lookup', [[null, 'OK']]);
    assert.throws(() => replies?.at(0).integer(), ScriptReplyError);
    assert.throws(() => replies?.at(3), ScriptReplyError);
  });
});
