import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MailEvent } from '../queue';
import { buildMailNotification, truncateUtf8 } from './mail-notification.builder';

const makeEvent = (overrides: Partial<MailEvent> = {}): MailEvent => ({
  accountId: 'acc_0123456789abcdef0123',
  userId: 'usr_0123456789abcdef0123',
  uidValidity: 7,
  uid: 42,
  messageKey: 'acc_0123456789abcdef0123.7.42',
  from: { name: 'Ada Lovelace', address: 'ada@example.com' },
  subject: 'Engines',
  detectedAt: 0,
  ...overrides,
});

describe('buildMailNotification', () => {
  it('full shows sender and subject, keyed by the message', () => {
    const n = buildMailNotification(makeEvent(), 'full');
    assert.equal(n.title, 'Ada Lovelace');
    assert.equal(n.body, 'Engines');
    assert.equal(n.collapseKey, 'acc_0123456789abcdef0123.7.42');
    assert.equal(n.threadId, 'acc_0123456789abcdef0123');
    assert.deepEqual(n.data, { accountId: 'acc_0123456789abcdef0123', messageKey: 'acc_0123456789abcdef0123.7.42', uid: '42' });
  });

  it('sender hides the subject, none hides both', () => {
    assert.ok(!JSON.stringify(buildMailNotification(makeEvent(), 'sender')).includes('Engines'));
    const none = JSON.stringify(buildMailNotification(makeEvent(), 'none'));
    assert.ok(!none.includes('Engines') && !none.includes('Ada') && !none.includes('ada@'));
  });

  it('falls back to the address and a placeholder subject', () => {
    const n = buildMailNotification(makeEvent({ from: { address: 'x@y.z' }, subject: '' }), 'full');
    assert.equal(n.title, 'x@y.z');
    assert.equal(n.body, '(no subject)');
  });
});

describe('truncateUtf8', () => {
  it('never splits a multi-byte character', () => {
    const cut = truncateUtf8('é'.repeat(100), 11);
    assert.ok(Buffer.byteLength(cut, 'utf8') <= 11);
    assert.ok(!cut.includes('\uFFFD'));
    assert.equal(truncateUtf8('short', 10), 'short');
  });
});
