import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test, type TestContext } from 'node:test';
import { ImapFlow, type ImapFlowOptions } from 'imapflow';
import { Redis } from 'ioredis';
import {
  eventually,
  freePort,
  freePorts,
  isPortOpen,
  startDovecot,
  startRedis,
  type DovecotHandle,
  type DovecotOptions,
} from './index';

const ALICE = { user: 'alice', password: 'alice-secret' };
const BOB = { user: 'bob@mailpush.test', password: 'bob-secret' };

async function dovecot(t: TestContext, opts: DovecotOptions = { users: [ALICE] }): Promise<DovecotHandle> {
  const server = await startDovecot(opts);
  t.after(() => server.stop());
  return server;
}

interface Client {
  imap: ImapFlow;
  errors: Error[];
  closed: () => boolean;
}

/** An ImapFlow over TLS, trusting the test CA only through NODE_EXTRA_CA_CERTS. */
async function login(
  t: TestContext,
  server: DovecotHandle,
  auth: { user: string; password: string },
  extra: Partial<ImapFlowOptions> = {},
): Promise<Client> {
  const imap = new ImapFlow({
    host: server.host,
    port: server.port,
    secure: true,
    auth: { user: auth.user, pass: auth.password },
    logger: false,
    autoIdleDelay: 0,
    ...extra,
  });
  const errors: Error[] = [];
  let closed = false;
  imap.on('error', (err: Error) => errors.push(err));
  imap.on('close', () => (closed = true));
  t.after(() => imap.close());
  await imap.connect();
  return { imap, errors, closed: () => closed };
}

async function refused(port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      reject(new Error(`port ${port} still accepts connections`));
    });
    socket.once('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNREFUSED' ? resolve() : reject(err)));
  });
}

test('freePort/freePorts give usable ports', async () => {
  const port = await freePort();
  assert.ok(port > 1024 && port < 65536);
  const [a, b, c] = await freePorts(3);
  assert.equal(new Set([a, b, c]).size, 3);
  assert.equal(await isPortOpen(a), false);
});

test('eventually retries until the check passes and reports the last failure on timeout', async () => {
  let calls = 0;
  assert.equal(await eventually(() => (++calls < 3 ? assert.fail('not yet') : calls), { intervalMs: 1 }), 3);
  await assert.rejects(
    eventually(() => assert.equal(1, 2), { timeoutMs: 50, message: 'one is two' }),
    (err: Error) =>
      err.name === 'AssertionError' && err.message.startsWith('one is two') && err.message.includes('1 !== 2'),
  );
  await assert.rejects(
    eventually(() => new Promise<never>(() => undefined), { timeoutMs: 50 }),
    /pending at the deadline/,
  );
});

test('redis answers PING, SET and GET, with noeviction, and stop() frees its port', async (t) => {
  const redis = await startRedis();
  t.after(() => redis.stop());
  assert.equal(redis.url, `redis://127.0.0.1:${redis.port}`);
  const client = new Redis(redis.url, { maxRetriesPerRequest: 1, lazyConnect: true });
  client.on('error', () => undefined);
  t.after(() => client.disconnect());
  await client.connect();
  assert.equal(await client.ping(), 'PONG');
  assert.equal(await client.set('harness:key', 'värde'), 'OK');
  assert.equal(await client.get('harness:key'), 'värde');
  assert.deepEqual(await client.config('GET', 'maxmemory-policy'), ['maxmemory-policy', 'noeviction']);
  client.disconnect();
  await redis.stop();
  await refused(redis.port);
});

test('dovecot: TLS login, IDLE sees a delivery, envelope matches (UTF-8 subject too)', async (t) => {
  const server = await dovecot(t);
  assert.notEqual(server.port, server.plainPort);
  const { imap, errors } = await login(t, server, ALICE);
  assert.ok(imap.capabilities.has('IDLE'));
  const mailbox = await imap.mailboxOpen('INBOX');
  assert.equal(mailbox.exists, 0);
  let exists = 0;
  imap.on('exists', (info: { count: number }) => (exists = info.count));

  const subjects = [
    'Plain hello',
    'Grüße aus Köln ✉ — 日本語のテスト件名はとても長いのでエンコードされた単語が複数必要です',
  ];
  for (const [i, subject] of subjects.entries()) {
    await server.deliver(ALICE.user, {
      from: 'Zoë Sender <zoe@example.com>',
      subject,
      messageId: `harness-${i}@mailpush.test`,
    });
    await eventually(() => assert.equal(exists, i + 1), { message: `IDLE never announced message ${i + 1}` });
    const msg = await imap.fetchOne(String(i + 1), { envelope: true, uid: true });
    assert.ok(msg);
    assert.equal(msg.envelope?.subject, subject);
    assert.equal(msg.envelope?.messageId, `<harness-${i}@mailpush.test>`);
    assert.deepEqual(msg.envelope?.from, [{ name: 'Zoë Sender', address: 'zoe@example.com' }]);
    assert.equal(msg.uid, i + 1);
  }
  assert.deepEqual(errors, []);
});

test('dovecot: wrong password is rejected; setPassword swaps passwords; addUser adds one', async (t) => {
  const server = await dovecot(t);
  await assert.rejects(
    login(t, server, { ...ALICE, password: 'wrong' }),
    (err: { authenticationFailed?: boolean }) => err.authenticationFailed === true,
  );
  await server.setPassword(ALICE.user, 'alice-new!');
  await assert.rejects(
    login(t, server, ALICE),
    (err: { authenticationFailed?: boolean }) => err.authenticationFailed === true,
  );
  const { imap } = await login(t, server, { ...ALICE, password: 'alice-new!' });
  assert.ok(imap.authenticated);
  await server.addUser(BOB.user, BOB.password);
  const bob = await login(t, server, BOB);
  await server.deliver(BOB.user, { from: 'a@example.com', subject: 'for bob' });
  assert.equal((await bob.imap.mailboxOpen('INBOX')).exists, 1);
});

test('dovecot: recreateInbox empties INBOX, raises UIDVALIDITY and restarts UIDs', async (t) => {
  const server = await dovecot(t);
  await server.deliver(ALICE.user, { from: 'a@example.com', subject: 'one' });
  await server.deliver(ALICE.user, { from: 'a@example.com', subject: 'two' });
  const first = await login(t, server, ALICE);
  const before = await first.imap.mailboxOpen('INBOX');
  assert.equal(before.exists, 2);

  await server.recreateInbox(ALICE.user);
  await eventually(() => assert.ok(first.closed(), 'the old session is dropped'));
  await server.deliver(ALICE.user, { from: 'a@example.com', subject: 'three' });
  const second = await login(t, server, ALICE);
  const after = await second.imap.mailboxOpen('INBOX');
  assert.ok(after.uidValidity > before.uidValidity, `${after.uidValidity} > ${before.uidValidity}`);
  assert.equal(after.exists, 1);
  const msg = await second.imap.fetchOne('1', { envelope: true, uid: true });
  assert.ok(msg);
  assert.equal(msg.uid, 1);
  assert.equal(msg.envelope?.subject, 'three');

  await server.recreateInbox(ALICE.user);
  const third = await login(t, server, ALICE);
  assert.ok((await third.imap.mailboxOpen('INBOX')).uidValidity > after.uidValidity);
});

test('dovecot: kill() drops everything, restart() serves the same mail on the same ports', async (t) => {
  const server = await dovecot(t);
  await server.deliver(ALICE.user, { from: 'a@example.com', subject: 'survives' });
  const { port, plainPort } = server;
  const client = await login(t, server, ALICE);
  await client.imap.mailboxOpen('INBOX');

  await server.kill();
  await eventually(() => assert.ok(client.closed(), 'the client sees the connection drop'));
  await refused(port);
  await refused(plainPort);

  await server.restart();
  assert.equal(server.port, port);
  const again = await login(t, server, ALICE);
  const mailbox = await again.imap.mailboxOpen('INBOX');
  assert.equal(mailbox.exists, 1);
  await server.deliver(ALICE.user, { from: 'a@example.com', subject: 'after restart' });

  // A restart of a running server is a clean one: the session is closed, the mail stays.
  await server.restart();
  await eventually(() => assert.ok(again.closed()));
  const plain = await login(t, server, ALICE, { port: server.plainPort, secure: false, doSTARTTLS: false });
  assert.equal((await plain.imap.mailboxOpen('INBOX')).exists, 2);
});

test('dovecot: with idle:false CAPABILITY lacks IDLE and a polling client still sees mail', async (t) => {
  const server = await dovecot(t, { users: [ALICE], idle: false });
  const { imap } = await login(t, server, ALICE);
  assert.equal(imap.capabilities.has('IDLE'), false);
  assert.equal(imap.capabilities.has('NOTIFY'), false);
  assert.ok(imap.capabilities.has('UIDPLUS'));
  await imap.mailboxOpen('INBOX');
  await server.deliver(ALICE.user, { from: 'a@example.com', subject: 'polled' });
  await eventually(async () => {
    await imap.noop();
    assert.equal(imap.mailbox === false ? 0 : imap.mailbox.exists, 1);
  });
});

test('dovecot: loginCount counts successful and failed logins per user', async (t) => {
  const server = await dovecot(t, { users: [ALICE, BOB] });
  assert.equal(server.loginCount(ALICE.user), 0);
  await login(t, server, ALICE);
  await assert.rejects(login(t, server, { ...ALICE, password: 'nope' }));
  await assert.rejects(login(t, server, { user: 'nobody-here', password: 'x' }));
  await server.setPassword(BOB.user, 'bob-2'); // its auth checks are not IMAP logins
  await eventually(() => assert.equal(server.loginCount(ALICE.user), 2));
  await eventually(() => assert.equal(server.loginCount('nobody-here'), 1));
  assert.equal(server.loginCount(BOB.user), 0);
  assert.equal(server.loginCount(), 3);
});
