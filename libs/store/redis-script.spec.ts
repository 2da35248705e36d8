import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ScriptReply, ScriptReplyError } from './redis-script';

const reply = (value: unknown) => new ScriptReply('spec', value);

describe('ScriptReply: a raw script reply checked into typed values', () => {
  it('reads integers, and only integers', () => {
    assert.equal(reply(-2).integer(), -2);
    for (const wrong of ['1', 1.5, null, [1]]) assert.throws(() => reply(wrong).integer(), ScriptReplyError);
  });

  it('reads one of the expected numbers, and refuses any other', () => {
    assert.equal(reply(-1).oneOf([1, 0, -1]), -1);
    assert.throws(() => reply(2).oneOf([0, 1]), /one of 0, 1/);
  });

  it('reads strings and nil', () => {
    assert.equal(reply('x').string(), 'x');
    assert.equal(reply(null).stringOrNull(), null);
    assert.equal(reply('x').stringOrNull(), 'x');
    assert.throws(() => reply(null).string(), ScriptReplyError);
    assert.throws(() => reply(3).stringOrNull(), ScriptReplyError);
  });

  it('reads arrays of the expected length, each element named after its place', () => {
    const [a, b] = reply([1, 'two']).array(2);
    assert.equal(a?.integer(), 1);
    assert.equal(b?.string(), 'two');
    assert.throws(() => reply([1]).array(2), /an array of 2/);
    assert.throws(() => reply([1, 'two']).array(2)[1]?.integer(), /spec\[1\]/);
    assert.throws(() => reply('x').array(), ScriptReplyError);
  });

  it('never puts the value in the error (replies hold sealed credentials and tokens)', () => {
    assert.throws(
      () => reply('sealed-secret').integer(),
      (err: unknown) => err instanceof ScriptReplyError && !err.message.includes('sealed-secret'),
    );
  });
});
