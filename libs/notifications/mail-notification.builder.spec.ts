import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MailEvent } from '@mailpush/queue';
import {
  buildBurstSummaryNotification,
  buildMailNotification,
  buildReauthNotification,
  truncateUtf8,
} from './mail-notification.builder';

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

const data = {
  kind: 'message',
  accountId: 'acc_0123456789abcdef0123',
  messageKey: 'acc_0123456789abcdef0123.7.42',
  uid: '42',
};

describe('buildMailNotification', () => {
  it('full shows sender and subject, keyed by the message, with what the app needs to open it', () => {
    const n = buildMailNotification(makeEvent(), 'full');
    assert.deepEqual(n, {
      title: 'Ada Lovelace',
      body: 'Engines',
      collapseKey: 'acc_0123456789abcdef0123.7.42',
      threadId: 'acc_0123456789abcdef0123',
      data,
    });
  });

  it('sender hides the subject, none hides both behind a localization key', () => {
    const sender = buildMailNotification(makeEvent(), 'sender');
    assert.deepEqual([sender.title, sender.body, sender.bodyLocKey], ['Ada Lovelace', 'New message', 'NEW_MESSAGE']);
    assert.ok(!JSON.stringify(sender).includes('Engines'));
    const none = buildMailNotification(makeEvent(), 'none');
    assert.deepEqual([none.title, none.body, none.bodyLocKey], ['', 'New mail', 'NEW_MAIL']);
    const text = JSON.stringify(none);
    assert.ok(!text.includes('Engines') && !text.includes('Ada') && !text.includes('ada@'));
    assert.deepEqual(none.data, data, 'the app can still open the message');
  });

  it('uses the unseen count as the badge when the worker knows it', () => {
    assert.equal(buildMailNotification(makeEvent({ unseen: 9 }), 'none').badge, 9);
    assert.equal('badge' in buildMailNotification(makeEvent(), 'full'), false);
  });

  it('falls back to the address and a placeholder subject', () => {
    const n = buildMailNotification(makeEvent({ from: { address: 'x@y.z' }, subject: '' }), 'full');
    assert.equal(n.title, 'x@y.z');
    assert.equal(n.body, '(no subject)');
  });

  it('renders a catch-up summary as a count, without the count for `none`', () => {
    const summary = makeEvent({ summary: { count: 12, firstUid: 31 } });
    const n = buildMailNotification(summary, 'full');
    assert.deepEqual([n.title, n.body, n.bodyLocKey, n.bodyLocArgs], ['', '12 new messages', 'NEW_MESSAGES', ['12']]);
    assert.deepEqual(n.data, { ...data, kind: 'summary', count: '12', firstUid: '31' });
    assert.equal(buildMailNotification(summary, 'none').body, 'New mail');
  });
});

describe('buildBurstSummaryNotification', () => {
  it('says how many messages were held back, collapsing per device window', () => {
    const n = buildBurstSummaryNotification(
      { deviceId: 'dev_1', windowStart: 1000, count: 195, accountId: 'acc_1' },
      'sender',
    );
    assert.deepEqual(n, {
      title: '',
      body: '195 new messages',
      bodyLocKey: 'NEW_MESSAGES',
      bodyLocArgs: ['195'],
      collapseKey: 'burst.dev_1.1000',
      threadId: 'acc_1',
      data: { kind: 'burst', count: '195', accountId: 'acc_1' },
    });
    assert.equal(
      buildBurstSummaryNotification({ deviceId: 'dev_1', windowStart: 1, count: 3 }, 'full').threadId,
      'mailpush',
    );
  });
});

describe('truncateUtf8', () => {
  it('never splits a multi-byte character', () => {
    const cut = truncateUtf8('é'.repeat(100), 11);
    assert.ok(Buffer.byteLength(cut, 'utf8') <= 11);
    assert.ok(!cut.includes('\uFFFD'));
    assert.equal(truncateUtf8('short', 10), 'short');
    assert.equal(truncateUtf8('😀😀', 5), '…');
    assert.equal(truncateUtf8('long text', 2), '', 'no room even for the ellipsis');
  });
});

describe('buildReauthNotification', () => {
  const notice = {
    accountId: 'acc_0123456789abcdef0123',
    email: 'ada@example.com',
    credentialsVersion: 3,
    url: 'https://push.example.com/v1/oauth/gmail/start?account=acc_0123456789abcdef0123&link=mpl_x',
  };

  it('asks to reconnect the address, with the account and the one-time link in data', () => {
    const n = buildReauthNotification(notice, 'full');
    assert.equal(n.title, 'Reconnect ada@example.com');
    assert.equal(n.bodyLocKey, 'RECONNECT');
    assert.equal(n.collapseKey, 'reauth.acc_0123456789abcdef0123.3');
    assert.deepEqual(n.data, { kind: 'reauth', type: 'reauth', accountId: notice.accountId, url: notice.url });
  });

  it('shows no address to a content-free device and carries no url without one', () => {
    const n = buildReauthNotification({ ...notice, url: undefined }, 'none');
    assert.equal(n.title, 'Reconnect your mailbox');
    assert.ok(!JSON.stringify(n).includes('ada@example.com'));
    assert.equal(n.data.url, undefined);
  });
});
