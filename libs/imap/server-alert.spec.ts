import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_ALERT_CHARS, sanitizeAlert } from './server-alert';

describe('sanitizeAlert', () => {
  it('removes control characters and markup brackets, collapses whitespace', () => {
    assert.equal(
      sanitizeAlert('  Planned\u0007 maintenance\r\n at <b>22:00</b>\u202e '),
      'Planned maintenance at b22:00/b',
    );
  });

  it("masks the account's own password should a server echo it", () => {
    assert.equal(sanitizeAlert('LOGIN alice hunter22 refused', ['hunter22']), 'LOGIN alice *** refused');
  });

  it('bounds the length without splitting characters', () => {
    const out = sanitizeAlert('✉'.repeat(1_000)) ?? '';
    assert.equal([...out].length, MAX_ALERT_CHARS);
    assert.ok(out.endsWith('…'));
  });

  it('returns nothing for nothing readable', () => {
    assert.equal(sanitizeAlert('\u0000\u0001  '), undefined);
  });
});
