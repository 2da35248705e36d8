import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ConnectPacer, MailboxWatcher, type WatchSettings } from '@mailpush/imap';
import { configureLogging, createLogger } from '@mailpush/logging';
import type { AccountStatusUpdate, MailboxCursor } from '@mailpush/store';
import { eventually, imapScript, startFaultProxy, type FaultProxy } from '../harness';

const SETTINGS: WatchSettings = {
  timeouts: { connectTimeoutMs: 3_000, socketTimeoutMs: 60_000 },
  reIdleMs: 60_000,
  pollIntervalMs: 60_000,
  liveness: { probeAfterMs: 60_000, probeTimeoutMs: 5_000 },
  summaryThreshold: 5,
  backoff: { baseMs: 100, maxMs: 500 },
};

/** Verb of a command line (`A12 UID FETCH 3:* …` → `UID FETCH`), DONE as itself. */
function verb(line: string): string {
  if (line.toUpperCase() === 'DONE') return 'DONE';
  const [, command = '', sub = ''] = line.split(' ');
  return command.toUpperCase() === 'UID' ? `UID ${sub.toUpperCase()}` : command.toUpperCase();
}

/**
 * The command sequences the watcher sends, seen by a scripted server: re-IDLE on its timer, a NOOP
 * probe after silence, STATUS polls (and nothing else) for a server without IDLE.
 */
describe('what the watcher says on the wire', { timeout: 60_000 }, () => {
  let proxy: FaultProxy;
  const watchers: MailboxWatcher[] = [];

  before(async () => {
    configureLogging({ level: 'error' });
    proxy = await startFaultProxy({ targetPort: 1 });
  });

  after(async () => {
    await Promise.all(watchers.map((w) => w.stop()));
    await proxy?.close();
  });

  function watch(settings: Partial<WatchSettings>, cursor: MailboxCursor) {
    const statuses: AccountStatusUpdate[] = [];
    let stored: MailboxCursor = cursor;
    const watcher = new MailboxWatcher({
      accountId: 'acc_protocol00000000000',
      endpoint: { host: proxy.host, port: proxy.port, tls: true },
      policy: { allowPrivateHosts: true, allowedPorts: 'any', allowPlaintext: false },
      settings: { ...SETTINGS, ...settings },
      notifySeen: false,
      pacer: new ConnectPacer({ perWorker: 100, perHost: 100 }),
      logger: createLogger('protocol-test'),
      loadCredentials: async () => ({ kind: 'password', username: 'u', password: 'p', version: 0 }),
      loadCursor: async () => stored,
      saveCursor: async (c) => {
        stored = c;
        return 'advanced';
      },
      reserveSummary: async () => 'advanced',
      publish: async () => undefined,
      reportStatus: async (update) => {
        statuses.push(update);
      },
      onAuthError: () => undefined,
      onOwnershipLost: () => undefined,
    });
    watchers.push(watcher);
    watcher.start();
    return { watcher, statuses };
  }

  it('re-issues IDLE on its timer, with a NOOP and a fetch above the cursor in between', async () => {
    const lines: string[] = [];
    proxy.impersonate(imapScript({ onCommand: (l) => lines.push(verb(l)), mailbox: { uidValidity: 7, uidNext: 5 } }));
    const w = watch({ reIdleMs: 300 }, { uidValidity: 7, lastUid: 4 });
    await eventually(() => assert.ok(lines.filter((l) => l === 'IDLE').length >= 4, lines.join(' ')));
    await w.watcher.stop();
    const fromFirstIdle = lines.slice(lines.indexOf('IDLE'));
    // IDLE, DONE, NOOP, the fetch above the cursor, IDLE again.
    assert.deepEqual(fromFirstIdle.slice(0, 5), ['IDLE', 'DONE', 'NOOP', 'UID FETCH', 'IDLE'], lines.join(' '));
    assert.ok(w.statuses.some((s) => s.status === 'idle'));
  });

  it('probes a silent connection with NOOP, then goes back to IDLE', async () => {
    const lines: { verb: string; at: number }[] = [];
    proxy.impersonate(imapScript({ onCommand: (l) => lines.push({ verb: verb(l), at: Date.now() }) }));
    const w = watch({ liveness: { probeAfterMs: 400, probeTimeoutMs: 2_000 } }, { uidValidity: 7, lastUid: 0 });
    await eventually(() => assert.ok(lines.filter((l) => l.verb === 'NOOP').length >= 2));
    await w.watcher.stop();
    const verbs = lines.map((l) => l.verb);
    const firstNoop = verbs.indexOf('NOOP');
    assert.deepEqual(verbs.slice(firstNoop - 2, firstNoop + 2), ['IDLE', 'DONE', 'NOOP', 'IDLE']);
    const idleAt = lines[firstNoop - 2]?.at ?? 0;
    const probeAt = lines[firstNoop]?.at ?? 0;
    assert.ok(probeAt - idleAt >= 400 && probeAt - idleAt < 2_000, `probe after ${probeAt - idleAt} ms of silence`);
  });

  it('polls a server without IDLE with STATUS only, and examines INBOX only when UIDNEXT moved', async () => {
    const lines: string[] = [];
    const mailbox = { uidValidity: 7, uidNext: 3 };
    proxy.impersonate(imapScript({ capabilities: 'IMAP4rev1', mailbox, onCommand: (l) => lines.push(verb(l)) }));
    const w = watch({ pollIntervalMs: 200 }, { uidValidity: 7, lastUid: 2 });
    await eventually(() => assert.ok(lines.filter((l) => l === 'STATUS').length >= 3));
    assert.ok(w.statuses.some((s) => s.status === 'polling'));
    assert.ok(!lines.includes('EXAMINE') && !lines.includes('SELECT') && !lines.includes('IDLE'), lines.join(' '));
    mailbox.uidNext = 4;
    await eventually(() => assert.ok(lines.includes('EXAMINE')));
    await eventually(() => assert.ok(lines.includes('CLOSE') || lines.includes('UNSELECT'), lines.join(' ')));
    await w.watcher.stop();
    const examine = lines.indexOf('EXAMINE');
    const status = lines.lastIndexOf('STATUS', examine);
    // imapflow looks the mailbox up (LIST, LSUB) once per connection before its first SELECT.
    assert.ok(
      lines.slice(status + 1, examine).every((l) => l === 'LIST' || l === 'LSUB'),
      lines.join(' '),
    );
    assert.equal(lines[examine + 1], 'UID FETCH');
  });
});
