import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { WatcherErrorCode } from '@mailpush/errors';
import type { MailboxCursor } from '@mailpush/store';
import { FakeClock } from '../../test/support/fake-clock';
import { eventually } from '../../test/harness/eventually';
import type { NewMail } from './catch-up-plan';
import { IllegalTransition, Lifecycle } from './lifecycle';
import { MailboxSession, SESSION_TRANSITIONS, type SessionDeps, type WatchMode } from './mailbox-session';
import { recordingLogger, UNIT_SESSION_SETTINGS } from './testing/fixtures';
import { ScriptedImapServer, type ScriptedServerOptions } from './testing/scripted-imap-server';

const FAST = { intervalMs: 2, timeoutMs: 3_000 };
const servers: ScriptedImapServer[] = [];
const sessions: MailboxSession[] = [];
/** Every transition any test drove, to check the table is covered. */
const driven = new Set<string>();

afterEach(async () => {
  await Promise.all(sessions.splice(0).map((s) => s.stop()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function harness(options: ScriptedServerOptions = {}, deps: Partial<SessionDeps> = {}) {
  const server = await ScriptedImapServer.start(options);
  servers.push(server);
  const clock = new FakeClock();
  const transitions: string[] = [];
  const published: NewMail[] = [];
  const modes: WatchMode[] = [];
  let cursor: MailboxCursor | null = { uidValidity: 7, lastUid: server.uidNext - 1 };
  const session = new MailboxSession({
    accountId: 'acc_unit',
    endpoint: { host: server.host, port: server.port, tls: false },
    resolved: { address: server.host, cleartextAllowed: true },
    auth: { user: 'u', pass: 'p' },
    settings: UNIT_SESSION_SETTINGS,
    logger: recordingLogger(),
    loadCursor: async () => cursor,
    saveCursor: async (c) => {
      cursor = c;
      return true;
    },
    reserveSummary: async () => true,
    publish: async (mail) => {
      published.push(mail);
    },
    onReady: async (mode) => {
      modes.push(mode);
    },
    onModeChange: async (mode) => {
      modes.push(mode);
    },
    onAlert: () => undefined,
    onProbeFailed: () => undefined,
    clock,
    onTransition: (from, to) => {
      transitions.push(`${from.phase}->${to.phase}`);
      driven.add(`${from.phase}->${to.phase}`);
    },
    ...deps,
  });
  sessions.push(session);
  const result = session.run();
  return { server, clock, session, result, transitions, published, modes, cursor: () => cursor };
}

/** The first (or only) error code a session ended with. */
function codeOf(err: unknown): unknown {
  return typeof err === 'object' && err !== null && 'code' in err ? err.code : undefined;
}

describe('MailboxSession lifecycle (scripted server, fake clock)', () => {
  it('connecting -> watching in IDLE; a new message is fetched, published, then the cursor moves', async () => {
    const h = await harness({ messages: [{ uid: 1 }] });
    await eventually(() => assert.equal(h.server.count('IDLE'), 1), FAST);
    assert.equal(h.session.phase, 'watching');
    assert.deepEqual(h.modes, ['idle']);
    assert.ok(h.server.commands.includes('EXAMINE'), 'INBOX is examined read-only');
    h.server.deliver({ uid: 2, subject: 'hello' });
    await eventually(() => assert.equal(h.cursor()?.lastUid, 2), FAST);
    assert.equal(h.published.length, 1);
    const mail = h.published[0];
    assert.equal(mail?.kind, 'messages');
    assert.deepEqual(mail?.kind === 'messages' ? mail.messages.map((m) => [m.uid, m.subject]) : [], [[2, 'hello']]);
    await eventually(() => assert.equal(h.server.count('IDLE'), 2), FAST);
    assert.deepEqual(h.transitions, ['connecting->watching', 'watching->watching']);
  });

  it('re-IDLE timer: a NOOP and a fetch above the cursor every reIdleMs, and nothing before', async () => {
    const reIdleMs = UNIT_SESSION_SETTINGS.reIdleMs;
    // No liveness probe in the way: the fake clock moves minutes without a byte from the server.
    const liveness = { probeAfterMs: 10 * reIdleMs, probeTimeoutMs: reIdleMs };
    const h = await harness({ messages: [{ uid: 1 }] }, { settings: { ...UNIT_SESSION_SETTINGS, liveness } });
    await eventually(() => assert.equal(h.server.count('IDLE'), 1), FAST);
    const fetches = h.server.count('UID FETCH');
    await h.clock.advance(reIdleMs - 1);
    assert.equal(h.server.count('NOOP'), 0);
    await h.clock.advance(1);
    await eventually(() => assert.equal(h.server.count('IDLE'), 2), FAST);
    assert.equal(h.server.count('NOOP'), 1);
    assert.equal(h.server.count('UID FETCH'), fetches + 1);
  });

  it('watching -> watching: a server that refuses IDLE is polled with STATUS instead', async () => {
    const h = await harness({ answer: (c) => (c.name === 'IDLE' ? ['$tag NO not today'] : undefined) });
    await eventually(() => assert.deepEqual(h.modes, ['idle', 'polling']), FAST);
    await eventually(() => assert.equal(h.server.count('STATUS'), 1), FAST);
    await h.clock.advance(UNIT_SESSION_SETTINGS.pollIntervalMs);
    await eventually(() => assert.equal(h.server.count('STATUS'), 2), FAST);
    assert.equal(h.server.count('IDLE'), 1, 'IDLE is not tried again');
    assert.deepEqual(h.transitions, [
      'connecting->watching',
      'watching->watching',
      'watching->watching',
      'watching->watching',
    ]);
  });

  it('three IDLEs the server ends at once (no time passes on the clock) also mean polling', async () => {
    const h = await harness({ answer: (c) => (c.name === 'IDLE' ? ['+ idling', '$tag OK over'] : undefined) });
    await eventually(() => assert.deepEqual(h.modes, ['idle', 'polling']), FAST);
    assert.equal(h.server.count('IDLE'), 3);
  });

  it('a server without IDLE is polled from the start, INBOX examined only when UIDNEXT moved', async () => {
    const h = await harness({ capabilities: 'IMAP4rev1', messages: [{ uid: 4 }] });
    await eventually(() => assert.equal(h.server.count('STATUS'), 1), FAST);
    assert.deepEqual(h.modes, ['polling']);
    assert.equal(h.server.count('EXAMINE'), 0);
    h.server.deliver({ uid: 5, subject: 'polled' });
    await h.clock.advance(UNIT_SESSION_SETTINGS.pollIntervalMs);
    await eventually(() => assert.equal(h.cursor()?.lastUid, 5), FAST);
    assert.equal(h.server.count('EXAMINE'), 1);
  });

  it('watching -> stopped: stop() logs out and run() resolves with nothing', async () => {
    const h = await harness();
    await eventually(() => assert.equal(h.server.count('IDLE'), 1), FAST);
    await h.session.stop();
    assert.equal(await h.result, undefined);
    assert.equal(h.server.count('LOGOUT'), 1);
    assert.equal(h.session.phase, 'stopped');
    assert.equal(h.session.wasReady, true);
    assert.equal(h.session.leaseLost, false);
  });

  it('connecting -> stopped: stop() during LOGIN; the connect error that follows is kept, not returned', async () => {
    const h = await harness({ answer: (c) => (c.name === 'LOGIN' ? 'silence' : undefined) });
    await eventually(() => assert.equal(h.server.count('LOGIN'), 1), FAST);
    await h.session.stop();
    assert.equal(await h.result, undefined);
    assert.equal(h.session.wasReady, false);
    assert.deepEqual(h.transitions, ['connecting->stopped', 'stopped->stopped']);
  });

  it('stopped -> stopped: a lease lost while the owner stops is still seen', async () => {
    let answer: (kept: boolean) => void = () => undefined;
    const h = await harness(
      {},
      {
        saveCursor: () =>
          new Promise<boolean>((resolve) => {
            answer = resolve;
          }),
      },
    );
    await eventually(() => assert.equal(h.server.count('IDLE'), 1), FAST);
    h.server.deliver({ uid: 1 });
    await eventually(() => assert.equal(h.published.length, 1), FAST);
    const stopping = h.session.stop();
    answer(false);
    await stopping;
    assert.equal(await h.result, undefined);
    assert.equal(h.session.leaseLost, true);
    assert.ok(h.transitions.includes('stopped->stopped'));
  });

  it('connecting -> failed: a rejected LOGIN ends the session with the server’s answer', async () => {
    const h = await harness({
      answer: (c) => (c.name === 'LOGIN' ? ['$tag NO [AUTHENTICATIONFAILED] nope'] : undefined),
    });
    const ended = await h.result;
    assert.ok(ended instanceof Error);
    assert.equal(h.session.phase, 'failed');
    assert.equal(h.session.wasReady, false);
    assert.deepEqual(h.transitions, ['connecting->failed']);
  });

  it('connecting -> failed: login and SELECT must finish within twice the connect timeout', async () => {
    const h = await harness({ answer: (c) => (c.name === 'EXAMINE' ? 'silence' : undefined) });
    await eventually(() => assert.equal(h.server.count('EXAMINE'), 1), FAST);
    await h.clock.advance(2 * UNIT_SESSION_SETTINGS.timeouts.connectTimeoutMs - 1);
    assert.equal(h.session.phase, 'connecting');
    await h.clock.advance(1);
    assert.equal(codeOf(await h.result), WatcherErrorCode.SetupTimeout);
  });

  it('watching -> failed: a NOOP probe the server never answers ends the session', async () => {
    let probed = 0;
    const h = await harness(
      { answer: (c) => (c.name === 'NOOP' ? 'silence' : undefined) },
      { onProbeFailed: () => (probed += 1) },
    );
    await eventually(() => assert.equal(h.server.count('IDLE'), 1), FAST);
    const { probeAfterMs, probeTimeoutMs } = UNIT_SESSION_SETTINGS.liveness;
    await h.clock.advance(probeAfterMs * 1.2);
    await eventually(() => assert.equal(h.server.count('NOOP'), 1), FAST);
    await h.clock.advance(probeTimeoutMs);
    assert.equal(codeOf(await h.result), WatcherErrorCode.ProbeTimeout);
    assert.equal(probed, 1);
    assert.equal(h.session.wasReady, true);
    assert.deepEqual(h.transitions, ['connecting->watching', 'watching->watching', 'watching->failed']);
  });

  it('watching -> failed: BYE, and a dropped connection, each end the session with their own code', async () => {
    const bye = await harness();
    await eventually(() => assert.equal(bye.server.count('IDLE'), 1), FAST);
    bye.server.hangUp();
    assert.equal(codeOf(await bye.result), WatcherErrorCode.ConnectionClosed);

    const h = await harness({
      answer: (c, conn) => (c.name === 'IDLE' ? (conn.send('* BYE going away'), conn.close(), []) : undefined),
    });
    assert.equal(codeOf(await h.result), WatcherErrorCode.ServerBye);
    assert.equal(h.session.phase, 'failed');
  });

  it('failed refuses every way out: stop() after a failure sends no LOGOUT', async () => {
    const h = await harness({ answer: (c) => (c.name === 'LOGIN' ? ['$tag NO nope'] : undefined) });
    await h.result;
    await h.session.stop();
    assert.equal(h.server.count('LOGOUT'), 0);
    assert.equal(h.session.phase, 'failed');
  });

  it('drove every transition of the table', () => {
    const table = Object.entries(SESSION_TRANSITIONS).flatMap(([from, to]) => to.map((t) => `${from}->${t}`));
    assert.deepEqual([...driven].sort(), table.sort());
  });
});

/** The table is what the compiler checks moves against: a move from a literal phase it does not list does not compile. */
type NextOf<F extends keyof typeof SESSION_TRANSITIONS> = (typeof SESSION_TRANSITIONS)[F][number];
const failedIsFinal: [NextOf<'failed'>] extends [never] ? true : false = true;
const stoppedOnlyRecords: NextOf<'stopped'> extends 'stopped' ? true : false = true;

describe('Lifecycle', () => {
  it('the session table, as types: failed is final, stopped only records a late failure', () => {
    assert.deepEqual([failedIsFinal, stoppedOnlyRecords], [true, true]);
  });

  type S = { phase: 'a' } | { phase: 'b'; n: number } | { phase: 'c' };
  const table = { a: ['b'], b: ['b', 'c'], c: [] } as const;

  it('moves along the table and ignores a stale move', () => {
    const seen: string[] = [];
    const l = new Lifecycle<S, typeof table>({ phase: 'a' }, table, (f, t) => seen.push(`${f.phase}${t.phase}`));
    assert.equal(l.transition('a', { phase: 'b', n: 1 }), true);
    assert.equal(l.transition('a', { phase: 'b', n: 2 }), false, 'no longer in a');
    assert.equal(l.transition('b', { phase: 'c' }), true);
    assert.deepEqual(seen, ['ab', 'bc']);
  });

  it('throws on a move the table does not list, when the phase is only known at run time', () => {
    const l = new Lifecycle<S, typeof table>({ phase: 'c' }, table);
    const phase = l.current().phase;
    assert.throws(() => l.transition(phase, { phase: 'b', n: 1 }), IllegalTransition);
  });
});
