import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { ClassifiedFailure, ErrorClass } from '@mailpush/errors';
import type { AccountCredentials, AccountStatusUpdate, CursorWrite, MailboxCursor } from '@mailpush/store';
import { FakeClock } from '../../test/support/fake-clock';
import { eventually } from '../../test/harness/eventually';
import type { AccessTokenSource } from './access-token-source';
import { MailboxWatcher, WATCHER_TRANSITIONS, type MailboxWatcherDeps } from './mailbox-watcher';
import { recordingLogger, UNIT_SETTINGS } from './testing/fixtures';
import { ScriptedImapServer, type ScriptedServerOptions } from './testing/scripted-imap-server';

const FAST = { intervalMs: 2, timeoutMs: 3_000 };
const PASSWORD: AccountCredentials = { kind: 'password', username: 'u', password: 'p', version: 3 };
const servers: ScriptedImapServer[] = [];
const watchers: MailboxWatcher[] = [];
const driven = new Set<string>();

afterEach(async () => {
  await Promise.all(watchers.splice(0).map((w) => w.stop()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function harness(options: ScriptedServerOptions = {}, deps: Partial<MailboxWatcherDeps> = {}) {
  const server = await ScriptedImapServer.start(options);
  servers.push(server);
  const clock = new FakeClock();
  const transitions: string[] = [];
  const statuses: AccountStatusUpdate[] = [];
  const events: string[] = [];
  let cursor: MailboxCursor | null = { uidValidity: 7, lastUid: server.uidNext - 1 };
  const watcher = new MailboxWatcher({
    accountId: 'acc_unit',
    endpoint: { host: server.host, port: server.port, tls: false },
    policy: { allowPrivateHosts: true, allowedPorts: 'any', allowPlaintext: true },
    settings: UNIT_SETTINGS,
    notifySeen: false,
    pacer: { acquire: async () => true },
    logger: recordingLogger(),
    loadCredentials: async () => PASSWORD,
    loadCursor: async () => cursor,
    saveCursor: async (c): Promise<CursorWrite> => {
      cursor = c;
      return 'advanced';
    },
    reserveSummary: async () => 'advanced',
    publish: async () => undefined,
    reportStatus: async (update) => {
      statuses.push(update);
    },
    onAuthError: () => events.push('auth_error'),
    onOwnershipLost: () => events.push('ownership_lost'),
    clock,
    onTransition: (from, to) => {
      transitions.push(`${from.phase}->${to.phase}`);
      driven.add(`${from.phase}->${to.phase}`);
    },
    ...deps,
  });
  watchers.push(watcher);
  const status = () => statuses.map((s) => s.status);
  return { server, clock, watcher, transitions, statuses, status, events };
}

/** SASL XOAUTH2 as sent with SASL-IR: `user=<u>^Aauth=Bearer <token>^A^A`, base64. */
function bearerOf(args: string): string {
  const [, encoded = ''] = args.split(' ');
  return /auth=Bearer ([^\x01]*)/.exec(Buffer.from(encoded, 'base64').toString())?.[1] ?? '';
}

function tokens(refreshAt: number, answers: (() => Promise<string>)[]): AccessTokenSource & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    accessToken: async (refused) => {
      asked.push(refused ?? '-');
      const next = answers.shift();
      if (!next) throw new Error('no more tokens scripted');
      return { accessToken: await next(), expiresAt: refreshAt + 60_000, refreshAt };
    },
  };
}

describe('MailboxWatcher lifecycle (scripted server, fake clock)', () => {
  it('created -> connecting -> session; watching is reported; stop() logs out', async () => {
    const h = await harness();
    h.watcher.start();
    await eventually(() => assert.deepEqual(h.status(), ['connecting', 'idle']), FAST);
    await h.watcher.stop();
    assert.equal(h.server.count('LOGOUT'), 1);
    assert.deepEqual(h.transitions, [
      'created->connecting',
      'connecting->session',
      'session->session',
      'session->stopped',
    ]);
  });

  it('created -> stopped: stopped before it started, it never connects', async () => {
    const h = await harness();
    await h.watcher.stop();
    h.watcher.start();
    await h.watcher.stop();
    assert.equal(h.server.count('LOGIN'), 0);
    assert.deepEqual(h.transitions, ['created->stopped']);
  });

  it('a dropped connection: disconnected -> backoff, and a reconnect only once the delay passed', async () => {
    const h = await harness();
    h.watcher.start();
    await eventually(() => assert.equal(h.server.count('IDLE'), 1), FAST);
    h.server.hangUp();
    await eventually(() => assert.equal(h.watcher.phase, 'backoff'), FAST);
    const backoff = h.statuses.find((s) => s.status === 'backoff');
    assert.equal(backoff?.lastError !== undefined, true);
    // Jittered between half and all of baseMs: nothing before half of it.
    await h.clock.advance(UNIT_SETTINGS.backoff.baseMs / 2 - 1);
    assert.equal(h.server.count('LOGIN'), 1);
    await h.clock.advance(UNIT_SETTINGS.backoff.baseMs / 2 + 1);
    await eventually(() => assert.equal(h.server.count('IDLE'), 2), FAST);
    assert.deepEqual(h.transitions, [
      'created->connecting',
      'connecting->session',
      'session->session',
      'session->disconnected',
      'disconnected->backoff',
      'backoff->connecting',
      'connecting->session',
      'session->session',
    ]);
  });

  it('backoff -> stopped: stop() during a backoff returns at once, no time passing', async () => {
    const h = await harness({ answer: (c) => (c.name === 'LOGIN' ? ['$tag NO [UNAVAILABLE] later'] : undefined) });
    h.watcher.start();
    await eventually(() => assert.equal(h.watcher.phase, 'backoff'), FAST);
    await h.watcher.stop();
    assert.equal(h.watcher.phase, 'stopped');
    assert.equal(h.server.count('LOGIN'), 1);
  });

  it('connecting -> disconnected: an endpoint the policy refuses is a backoff before any connection', async () => {
    const h = await harness({}, { policy: { allowPrivateHosts: true, allowedPorts: [993], allowPlaintext: true } });
    h.watcher.start();
    await eventually(() => assert.equal(h.watcher.phase, 'backoff'), FAST);
    assert.equal(h.server.count('LOGIN'), 0);
    assert.deepEqual(h.transitions, ['created->connecting', 'connecting->disconnected', 'disconnected->backoff']);
  });

  it('connecting -> stopped: the account is gone (no credentials)', async () => {
    const h = await harness({}, { loadCredentials: async () => null });
    h.watcher.start();
    await eventually(() => assert.equal(h.watcher.phase, 'stopped'), FAST);
    assert.deepEqual(h.transitions, ['created->connecting', 'connecting->stopped']);
    assert.equal(h.server.count('LOGIN'), 0);
  });

  it('disconnected -> stopped: a rejected password stops for good, reported as auth_error', async () => {
    const h = await harness({
      answer: (c) => (c.name === 'LOGIN' ? ['$tag NO [AUTHENTICATIONFAILED] Invalid credentials'] : undefined),
    });
    h.watcher.start();
    await eventually(() => assert.deepEqual(h.events, ['auth_error']), FAST);
    assert.deepEqual(h.status(), ['connecting', 'auth_error']);
    await h.clock.advance(10 * UNIT_SETTINGS.backoff.maxMs);
    assert.equal(h.server.count('LOGIN'), 1, 'never retried');
    assert.deepEqual(h.transitions.slice(-2), ['session->disconnected', 'disconnected->stopped']);
  });

  it('disconnected -> stopped: a cursor write that finds the lease gone lets the account go', async () => {
    const h = await harness({ messages: [{ uid: 1 }] }, { saveCursor: async () => 'lease_lost' });
    h.watcher.start();
    await eventually(() => assert.equal(h.server.count('IDLE'), 1), FAST);
    h.server.deliver({ uid: 2 });
    await eventually(() => assert.deepEqual(h.events, ['ownership_lost']), FAST);
    assert.equal(h.watcher.phase, 'stopped');
    assert.deepEqual(h.transitions.slice(-2), ['session->disconnected', 'disconnected->stopped']);
  });

  it('disconnected -> connecting: a refused access token is refreshed and retried at once, once', async () => {
    const source = tokens(Number.MAX_SAFE_INTEGER, [async () => 'stale', async () => 'fresh']);
    const h = await harness(
      {
        capabilities: 'IMAP4rev1 IDLE AUTH=XOAUTH2 SASL-IR',
        answer: (c) =>
          c.name === 'AUTHENTICATE'
            ? bearerOf(c.args) === 'fresh'
              ? ['$tag OK welcome']
              : ['$tag NO [AUTHENTICATIONFAILED] token refused']
            : undefined,
      },
      {
        loadCredentials: async () => ({ kind: 'oauth2', username: 'u', provider: 'p', refreshToken: 'r', version: 1 }),
        tokens: source,
      },
    );
    h.watcher.start();
    await eventually(() => assert.equal(h.server.count('IDLE'), 1), FAST);
    assert.deepEqual(source.asked, ['-', 'stale']);
    assert.ok(h.transitions.includes('disconnected->connecting'));
    assert.ok(!h.status().includes('backoff'), 'no backoff before the retry');
  });

  it('session -> session: a grant revoked while connected ends the session and stops as auth_error', async () => {
    const source = tokens(5_000, [
      async () => 'first',
      () =>
        Promise.reject(
          new ClassifiedFailure({ errorClass: ErrorClass.Auth, code: 'reauth_required', message: 'revoked' }),
        ),
    ]);
    const h = await harness(
      {
        capabilities: 'IMAP4rev1 IDLE AUTH=XOAUTH2 SASL-IR',
        answer: (c) => (c.name === 'AUTHENTICATE' ? ['$tag OK welcome'] : undefined),
      },
      {
        loadCredentials: async () => ({ kind: 'oauth2', username: 'u', provider: 'p', refreshToken: 'r', version: 1 }),
        tokens: source,
      },
    );
    h.watcher.start();
    await eventually(() => assert.equal(h.server.count('IDLE'), 1), FAST);
    assert.deepEqual(source.asked, ['-']);
    await h.clock.advance(4_999);
    assert.deepEqual(source.asked, ['-'], 'not refreshed before refreshAt');
    await h.clock.advance(1);
    await eventually(() => assert.deepEqual(h.events, ['auth_error']), FAST);
    assert.equal(h.server.count('LOGOUT'), 1);
    assert.deepEqual(h.status().slice(-1), ['auth_error']);
  });

  it('session -> session: a server that refuses IDLE is reported as polling', async () => {
    const h = await harness({ answer: (c) => (c.name === 'IDLE' ? ['$tag NO not today'] : undefined) });
    h.watcher.start();
    await eventually(() => assert.deepEqual(h.status(), ['connecting', 'idle', 'polling']), FAST);
  });

  it('connecting -> stopped: stop() while waiting for the pacer', async () => {
    let waiting = false;
    const h = await harness(
      {},
      {
        pacer: {
          acquire: (_host, signal) =>
            new Promise<boolean>((resolve) => {
              waiting = true;
              if (signal?.aborted) resolve(false);
              signal?.addEventListener('abort', () => resolve(false));
            }),
        },
      },
    );
    h.watcher.start();
    await eventually(() => assert.ok(waiting), FAST);
    await h.watcher.stop();
    assert.equal(h.server.count('LOGIN'), 0);
    assert.deepEqual(h.transitions, ['created->connecting', 'connecting->stopped']);
  });

  it('drove every transition of the table', () => {
    const table = Object.entries(WATCHER_TRANSITIONS).flatMap(([from, to]) => to.map((t) => `${from}->${t}`));
    assert.deepEqual([...driven].sort(), table.sort());
  });
});
