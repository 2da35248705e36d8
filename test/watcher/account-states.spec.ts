import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { ImapFlow } from 'imapflow';
import { buildMessage, eventually, startDovecot, type DovecotHandle } from '../harness';
import { makeMessage } from '../support/factories';
import { createUser, type Pipeline } from '../support/pipeline.fixture';
import {
  assertExactlyOnce,
  linkSubject,
  startWatchPipeline,
  subjects,
  type AccountView,
  type Subject,
} from './watch-fixture';

const PASSWORD = 'account-states-pw';
const USERS = ['auth', 'seen', 'seen-on', 'toggle'].map((name) => ({ user: `st-${name}`, password: PASSWORD }));
const POLL_USER = { user: 'st-poll', password: PASSWORD };
/** Longer than several reconnect backoffs (capped at 0.8 s in these specs): long enough to see a retry storm. */
const NO_RETRY_WINDOW_MS = 3_000;

describe('account states: auth_error, polling, \\Seen, disabled', { timeout: 120_000 }, () => {
  let p: Pipeline;
  let noIdle: DovecotHandle;
  const linked: Subject[] = [];
  let authSubject: Subject | undefined;

  before(async () => {
    [p, noIdle] = await Promise.all([startWatchPipeline(USERS), startDovecot({ users: [POLL_USER], idle: false })]);
  });

  after(async () => {
    await Promise.all(linked.map((s) => s.proxy.close()));
    await Promise.all([p?.stop(), noIdle?.stop()]);
  });

  async function subject(
    name: string,
    options: { port?: number; notifySeen?: boolean; expect?: string } = {},
  ): Promise<Subject> {
    const s = await linkSubject(p, { user: name, password: PASSWORD }, options);
    linked.push(s);
    return s;
  }

  it('stops at auth_error without retrying when the password changes mid-session, and resumes with new credentials', async () => {
    const s = await subject('st-auth');
    authSubject = s;
    const msg = subjects('auth');
    await p.dovecot.deliver('st-auth', makeMessage({ subject: msg('before') }));
    await eventually(() => assert.ok(s.pushes().has(msg('before'))));

    await p.dovecot.setPassword('st-auth', 'a-brand-new-password');
    const loginsBefore = p.dovecot.loginCount('st-auth');
    const connectionsBefore = s.proxy.connections().length;
    // Dovecot keeps a logged-in session after a password change: drop it so the worker logs in again.
    s.proxy.reset();
    const failed = await s.waitFor('auth_error');
    assert.match(failed.lastError ?? '', /rejected the username or password/);
    assert.ok(!JSON.stringify(failed).includes(PASSWORD));
    assert.equal(failed.nextAttemptAt, null);
    await eventually(() => assert.equal(p.dovecot.loginCount('st-auth'), loginsBefore + 1));

    // An absence can only be observed over a window: no retry, however long we wait.
    await delay(NO_RETRY_WINDOW_MS);
    assert.equal(p.dovecot.loginCount('st-auth'), loginsBefore + 1, 'exactly one failed login, no retry storm');
    assert.equal(s.proxy.connections().length, connectionsBefore + 1);
    assert.equal((await s.account()).status, 'auth_error');
    await p.dovecot.deliver('st-auth', makeMessage({ subject: msg('while auth_error') }));

    const wrong = await s.user.request<{ error: { code: string } }>('PUT', `/v1/accounts/${s.accountId}/credentials`, {
      auth: { type: 'password', password: 'still-wrong' },
    });
    assert.equal(wrong.status, 422);
    assert.equal(wrong.body.error.code, 'auth_failed');
    assert.equal((await s.account()).status, 'auth_error', 'refused credentials change nothing');

    const fixed = await s.user.request<AccountView>('PUT', `/v1/accounts/${s.accountId}/credentials`, {
      auth: { type: 'password', password: 'a-brand-new-password' },
    });
    assert.equal(fixed.status, 200, JSON.stringify(fixed.body));
    assert.ok(['connecting', 'idle'].includes(fixed.body.status));
    assert.equal(fixed.body.lastError, null);
    await s.waitFor('idle');
    await p.dovecot.deliver('st-auth', makeMessage({ subject: msg('after') }));
    // The refusal also asked the person back, once (issue 7: the Reconnect notification).
    const reconnect = 'Sign in again to keep getting new-mail notifications';
    await assertExactlyOnce(p, s, [msg('before'), msg('while auth_error'), msg('after'), reconnect]);
    p.roles
      .get('worker')
      ?.output.forEach((line) => assert.ok(!line.includes('a-brand-new-password'), 'no password in logs'));
  });

  it('reconnects with replaced credentials at once, without passing through auth_error', async () => {
    const s = authSubject;
    assert.ok(s, 'runs after the auth_error test');
    const opened = s.proxy.connections().length;
    await p.dovecot.setPassword('st-auth', 'third-password');
    const res = await s.user.request<AccountView>('PUT', `/v1/accounts/${s.accountId}/credentials`, {
      auth: { type: 'password', username: 'st-auth', password: 'third-password' },
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    // The API's own login check, then the worker's new connection.
    await eventually(() => assert.ok(s.proxy.connections().length >= opened + 2));
    await s.waitFor('idle');
    assert.equal((await s.account()).lastError, null);
  });

  it('polls a server without IDLE (status polling) and still notifies exactly once', async () => {
    const s = await subject('st-poll', { port: noIdle.port, expect: 'polling' });
    const msg = subjects('poll');
    await noIdle.deliver('st-poll', makeMessage({ subject: msg('first') }));
    await eventually(() => assert.ok(s.pushes().has(msg('first'))), { timeoutMs: 5_000 });
    s.proxy.refuse(true);
    s.proxy.reset();
    await s.waitFor('backoff');
    await noIdle.deliver('st-poll', makeMessage({ subject: msg('while down') }));
    s.proxy.refuse(false);
    await s.waitFor('polling');
    await noIdle.deliver('st-poll', makeMessage({ subject: msg('after') }));
    await assertExactlyOnce(p, s, [msg('first'), msg('while down'), msg('after')]);
  });

  it('does not notify messages already \\Seen, unless the account asks for them', async () => {
    const quiet = await subject('st-seen');
    const loud = await subject('st-seen-on', { notifySeen: true });
    assert.equal((await loud.account()).options.notifySeen, true);
    assert.equal((await quiet.account()).options.notifySeen, false);
    const msg = subjects('seen');
    for (const user of ['st-seen', 'st-seen-on']) {
      await appendSeen(p.dovecot, user, msg('read elsewhere'));
      await p.dovecot.deliver(user, makeMessage({ subject: msg('unread') }));
    }
    await assertExactlyOnce(p, quiet, [msg('unread')]);
    await assertExactlyOnce(p, loud, [msg('read elsewhere'), msg('unread')]);
  });

  it('disables and re-enables an account: no connection while disabled, mail caught up after', async () => {
    const s = await subject('st-toggle');
    const msg = subjects('toggle');
    await p.dovecot.deliver('st-toggle', makeMessage({ subject: msg('before') }));
    await eventually(() => assert.ok(s.pushes().has(msg('before'))));

    const off = await s.user.request<AccountView>('POST', `/v1/accounts/${s.accountId}/disable`);
    assert.equal(off.status, 200);
    assert.equal(off.body.status, 'disabled');
    await eventually(() => assert.equal(s.proxy.open().length, 0, 'the worker let the connection go'));
    await p.dovecot.deliver('st-toggle', makeMessage({ subject: msg('while disabled') }));
    const connections = s.proxy.connections().length;
    await delay(1_000);
    assert.equal(s.proxy.connections().length, connections, 'no reconnect while disabled');
    assert.equal((await s.account()).status, 'disabled');

    const on = await s.user.request<AccountView>('POST', `/v1/accounts/${s.accountId}/enable`);
    assert.equal(on.status, 200);
    await s.waitFor('idle');
    await p.dovecot.deliver('st-toggle', makeMessage({ subject: msg('after') }));
    await assertExactlyOnce(p, s, [msg('before'), msg('while disabled'), msg('after')]);
  });
  it("refuses someone else's account (404) and malformed bodies (400)", async () => {
    const [owner] = linked;
    assert.ok(owner);
    const stranger = await createUser(p.admin);
    for (const [method, path, body] of [
      ['PUT', 'credentials', { auth: { type: 'password', password: 'x' } }],
      ['POST', 'disable', undefined],
      ['POST', 'enable', undefined],
    ] as const) {
      const res = await stranger.request(method, `/v1/accounts/${owner.accountId}/${path}`, body);
      assert.equal(res.status, 404, `${method} ${path}`);
    }
    const bad = await owner.user.request('PUT', `/v1/accounts/${owner.accountId}/credentials`, {
      auth: { type: 'oauth', password: '' },
    });
    assert.equal(bad.status, 400);
    const badOptions = await owner.user.post('/v1/accounts', {
      email: 'x@example.test',
      imap: { host: '127.0.0.1', port: 993, tls: true },
      auth: { type: 'password', username: 'x', password: 'y' },
      options: { notifySeen: 'yes' },
    });
    assert.equal(badOptions.status, 400);
  });
});

/** Stores a message already flagged \Seen (read in another client) with IMAP APPEND. */
async function appendSeen(dovecot: DovecotHandle, user: string, subject: string): Promise<void> {
  const client = new ImapFlow({
    host: dovecot.host,
    port: dovecot.port,
    secure: true,
    auth: { user, pass: PASSWORD },
    logger: false,
  });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.append(
      'INBOX',
      buildMessage({ from: 'Reader <reader@example.com>', to: user, subject, body: 'read' }).raw,
      ['\\Seen'],
    );
  } finally {
    await client.logout();
  }
}
