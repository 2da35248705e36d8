import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ImapFlow } from 'imapflow';
import { Redis } from 'ioredis';
import { ConnectPacer, MailboxWatcher, type NewMail } from '@mailpush/imap';
import { configureLogging, createLogger } from '@mailpush/logging';
import {
  CursorRepository,
  LeaseRepository,
  RedisKeys,
  type AccountStatusUpdate,
  type Lease,
  type MailboxCursor,
} from '@mailpush/store';
import { buildMessage, eventually, startDovecot, startRedis, type DovecotHandle, type RedisHandle } from '../harness';
import { makeMessage } from '../support/factories';

const PASSWORD = 'catch-up-pw';
const USERS = ['replay', 'wide', 'lease', 'gone'].map((name) => ({ user: `cu-${name}`, password: PASSWORD }));

/**
 * The watcher on its own, against real Redis (cursor, lease) and a real Dovecot: what it publishes
 * for a given cursor, and what it does when its lease is gone.
 */
describe('catch-up above the cursor (watcher in process)', { timeout: 60_000 }, () => {
  let redis: RedisHandle;
  let dovecot: DovecotHandle;
  let client: Redis;
  let cursors: CursorRepository;
  let leases: LeaseRepository;
  const watchers: MailboxWatcher[] = [];

  before(async () => {
    configureLogging({ level: 'error' });
    [redis, dovecot] = await Promise.all([startRedis(), startDovecot({ users: USERS })]);
    client = new Redis(redis.url);
    cursors = new CursorRepository(client);
    leases = new LeaseRepository(client);
  });

  after(async () => {
    await Promise.all(watchers.map((w) => w.stop()));
    await client?.quit();
    await Promise.all([dovecot?.stop(), redis?.stop()]);
  });

  async function uidValidityOf(user: string): Promise<number> {
    const imap = new ImapFlow({
      host: dovecot.host,
      port: dovecot.port,
      secure: true,
      auth: { user, pass: PASSWORD },
      logger: false,
    });
    imap.on('error', () => undefined);
    await imap.connect();
    try {
      return Number((await imap.mailboxOpen('INBOX')).uidValidity);
    } finally {
      await imap.logout();
    }
  }

  async function watch(user: string, cursor: MailboxCursor) {
    const accountId = `acc_${user.replace(/[^a-z]/g, '')}00000000000000`.slice(0, 24);
    await client.hset(RedisKeys.account(accountId), {
      id: accountId,
      userId: 'usr_x',
      email: `${user}@x.test`,
      host: dovecot.host,
      port: String(dovecot.port),
      tls: 'true',
      createdAt: new Date().toISOString(),
    });
    await client.del(RedisKeys.cursor(accountId));
    await client.hset(RedisKeys.cursor(accountId), {
      uidValidity: String(cursor.uidValidity),
      lastUid: String(cursor.lastUid),
    });
    if (cursor.pendingSummary) {
      const s = cursor.pendingSummary;
      await client.hset(RedisKeys.cursor(accountId), {
        summaryUidValidity: String(s.uidValidity),
        summaryFirstUid: String(s.firstUid),
        summaryLastUid: String(s.lastUid),
        summaryCount: String(s.count),
        summaryCoversUpTo: String(s.coversUpTo),
      });
    }
    const lease = (await leases.acquire(accountId, 'test-worker', 30_000)) as Lease;
    assert.ok(lease);
    const published: NewMail[] = [];
    const statuses: AccountStatusUpdate[] = [];
    let ownershipLost = 0;
    const watcher = new MailboxWatcher({
      accountId,
      endpoint: { host: dovecot.host, port: dovecot.port, tls: true },
      policy: { allowPrivateHosts: true, allowedPorts: 'any', allowPlaintext: false },
      settings: {
        timeouts: { connectTimeoutMs: 5_000, socketTimeoutMs: 60_000 },
        reIdleMs: 60_000,
        pollIntervalMs: 1_000,
        liveness: { probeAfterMs: 5_000, probeTimeoutMs: 5_000 },
        summaryThreshold: 5,
        backoff: { baseMs: 100, maxMs: 500 },
      },
      notifySeen: false,
      pacer: new ConnectPacer({ perWorker: 100, perHost: 100 }),
      logger: createLogger('watcher-test'),
      loadCredentials: async () => ({ kind: 'password', username: user, password: PASSWORD, version: 0 }),
      loadCursor: () => cursors.get(accountId),
      saveCursor: (c) => cursors.advance(lease, c),
      reserveSummary: (s) => cursors.reserveSummary(lease, s),
      publish: async (mail) => {
        published.push(mail);
      },
      reportStatus: async (update) => {
        statuses.push(update);
      },
      onAuthError: () => undefined,
      onOwnershipLost: () => (ownershipLost += 1),
    });
    watchers.push(watcher);
    watcher.start();
    return { accountId, lease, published, statuses, ownershipLost: () => ownershipLost, watcher };
  }

  it('publishes a summary reserved before a crash again, unchanged, though more mail came since', async () => {
    for (let i = 1; i <= 8; i += 1) await dovecot.deliver('cu-replay', makeMessage({ subject: `replay ${i}` }));
    const uidValidity = await uidValidityOf('cu-replay');
    // As left by a worker that reserved "7 new messages" (UIDs 1-7), published it, and died
    // before it could advance the cursor; UID 8 arrived afterwards.
    const w = await watch('cu-replay', {
      uidValidity,
      lastUid: 0,
      pendingSummary: { uidValidity, firstUid: 1, lastUid: 7, count: 7, coversUpTo: 7 },
    });
    await eventually(() => assert.equal(w.published.length, 2));
    assert.deepEqual(w.published[0], {
      kind: 'summary',
      summary: { uidValidity, firstUid: 1, lastUid: 7, count: 7, coversUpTo: 7 },
    });
    const second = w.published[1];
    assert.equal(second?.kind, 'messages');
    assert.deepEqual(second?.kind === 'messages' ? second.messages.map((m) => [m.uid, m.subject]) : [], [
      [8, 'replay 8'],
    ]);
    const cursor = await cursors.get(w.accountId);
    assert.deepEqual(cursor, { uidValidity, lastUid: 8 }, 'advanced, reservation cleared');
  });

  it('fetches flags first for a wide gap and envelopes only for what it notifies', async () => {
    for (let i = 1; i <= 4; i += 1) await appendSeen('cu-wide', `read ${i}`);
    for (let i = 1; i <= 4; i += 1) await dovecot.deliver('cu-wide', makeMessage({ subject: `unread ${i}` }));
    const uidValidity = await uidValidityOf('cu-wide');
    const w = await watch('cu-wide', { uidValidity, lastUid: 0 });
    await eventually(() => assert.equal(w.published.length, 1));
    const mail = w.published[0];
    assert.equal(mail?.kind, 'messages');
    assert.deepEqual(mail?.kind === 'messages' ? mail.messages.map((m) => m.subject) : [], [
      'unread 1',
      'unread 2',
      'unread 3',
      'unread 4',
    ]);
    await eventually(async () => assert.equal((await cursors.get(w.accountId))?.lastUid, 8));
  });

  it('lets the account go when a cursor write shows the lease is gone (publish stays at-least-once)', async () => {
    const uidValidity = await uidValidityOf('cu-lease');
    const w = await watch('cu-lease', { uidValidity, lastUid: 0 });
    await eventually(() => assert.ok(w.statuses.some((s) => s.status === 'idle')));
    await client.set(RedisKeys.lease(w.accountId), 'another-worker#99', 'PX', 30_000);
    await dovecot.deliver('cu-lease', makeMessage({ subject: 'after the lease moved' }));
    await eventually(() => assert.equal(w.ownershipLost(), 1));
    assert.equal(w.published.length, 1, 'published once (the new owner dedups by job id)');
    assert.deepEqual(
      await cursors.get(w.accountId),
      { uidValidity, lastUid: 0 },
      'the cursor belongs to the new owner',
    );
    await w.watcher.stop();
  });

  it('leaves no cursor behind for an account deleted while it watched (user erasure)', async () => {
    const uidValidity = await uidValidityOf('cu-gone');
    const w = await watch('cu-gone', { uidValidity, lastUid: 0 });
    await eventually(() => assert.ok(w.statuses.some((s) => s.status === 'idle')));
    // What the account-deletion script removes; the slot lease stays with this worker (other accounts).
    await client.del(RedisKeys.account(w.accountId), RedisKeys.cursor(w.accountId));
    await dovecot.deliver('cu-gone', makeMessage({ subject: 'after the account was deleted' }));
    await eventually(() => assert.equal(w.ownershipLost(), 1));
    assert.equal(await client.exists(RedisKeys.cursor(w.accountId)), 0, 'no cursor recreated');
    assert.equal(await cursors.advance(w.lease, { uidValidity, lastUid: 5 }), 'account_gone');
    assert.equal(await client.exists(RedisKeys.cursor(w.accountId)), 0);
    await w.watcher.stop();
  });

  async function appendSeen(user: string, subject: string): Promise<void> {
    const imap = new ImapFlow({
      host: dovecot.host,
      port: dovecot.port,
      secure: true,
      auth: { user, pass: PASSWORD },
      logger: false,
    });
    imap.on('error', () => undefined);
    await imap.connect();
    try {
      await imap.append('INBOX', buildMessage({ from: 'R <r@example.com>', to: user, subject, body: 'x' }).raw, [
        '\\Seen',
      ]);
    } finally {
      await imap.logout();
    }
  }
});
