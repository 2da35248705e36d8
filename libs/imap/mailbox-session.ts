import type { FetchMessageObject, ImapFlow } from 'imapflow';
import { WatcherErrorCode } from '@mailpush/errors';
import type { Logger } from '@mailpush/logging';
import type { ImapEndpoint, MailboxCursor, PendingSummary } from '@mailpush/store';
import { repeat, systemClock, type Clock } from './clock';
import { planCatchUp, type CatchUpRow, type NewMail, type NewMessage } from './catch-up-plan';
import type { ResolvedHost } from './host-guard';
import { createImapClient, type ImapAuth, type ImapTimeouts } from './imap-client.factory';
import { CommandQueue } from './command-queue';
import { LivenessMonitor, type LivenessSettings } from './liveness-monitor';
import { Lifecycle, type TransitionTable } from './lifecycle';

export type WatchMode = 'idle' | 'polling';

export interface SessionSettings {
  timeouts: ImapTimeouts;
  /** Re-issue IDLE (and re-check above the cursor) this often. */
  reIdleMs: number;
  /** STATUS poll interval when the server has no IDLE. */
  pollIntervalMs: number;
  liveness: LivenessSettings;
  summaryThreshold: number;
  notifySeen: boolean;
}

export interface SessionDeps {
  accountId: string;
  endpoint: ImapEndpoint;
  resolved: ResolvedHost;
  auth: ImapAuth;
  settings: SessionSettings;
  logger: Logger;
  loadCursor(): Promise<MailboxCursor | null>;
  /** Resolves false when the lease is gone: the session ends and the account is let go. */
  saveCursor(cursor: MailboxCursor): Promise<boolean>;
  reserveSummary(summary: PendingSummary): Promise<boolean>;
  publish(mail: NewMail): Promise<void>;
  onReady(mode: WatchMode): Promise<void>;
  onModeChange(mode: WatchMode): Promise<void>;
  onAlert(text: string): void;
  onProbeFailed(): void;
  /** Time source for every timer of the session (its specs drive time by hand). Default: real time. */
  clock?: Clock;
  /** Sees every state change (specs; tracing). */
  onTransition?(from: SessionState, to: SessionState): void;
}

const SEEN = '\\Seen';
/**
 * connectTimeout bounds TCP + TLS + greeting inside imapflow; login and SELECT get as long again
 * (a slow provider takes seconds to log in or open a large INBOX, never tens of seconds).
 */
const SETUP_TIMEOUT_FACTOR = 2;
/** LOGOUT on shutdown: polite, but never allowed to hold a worker's shutdown up. */
const LOGOUT_TIMEOUT_MS = 2_000;
/** An IDLE the server ends on its own this quickly, this many times in a row, is treated as no IDLE. */
const QUICK_IDLE_MS = 1_000;
const QUICK_IDLE_LIMIT = 3;
/** A sound server sends no line we cannot parse; a few are tolerated, a stream of them is junk. */
const UNPARSEABLE_LINE_LIMIT = 10;

const noop = (): void => undefined;

class LeaseLost extends Error {
  override name = 'LeaseLost';
}

function watcherError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

/**
 * A session's lifecycle. `connecting`: connect, login, SELECT. `watching`: INBOX watched in IDLE
 * or by polling, with the re-IDLE or poll timer running. `stopped`: ended by its owner (a failure
 * seen while logging out is still kept: a lost lease must be noticed). `failed`: ended by the
 * connection, the server or a command; the first failure is the session's result.
 */
export type SessionState =
  | { readonly phase: 'connecting' }
  | { readonly phase: 'watching'; readonly mode: WatchMode; readonly stopTimer: () => void }
  | { readonly phase: 'stopped'; readonly wasReady: boolean; readonly failure?: unknown }
  | { readonly phase: 'failed'; readonly wasReady: boolean; readonly failure: unknown };

export type SessionPhase = SessionState['phase'];

export const SESSION_TRANSITIONS = {
  connecting: ['watching', 'stopped', 'failed'],
  // watching -> watching: the mode changes (a server that refuses IDLE is polled instead).
  watching: ['watching', 'stopped', 'failed'],
  // stopped -> stopped: the first failure seen after the owner's stop is recorded.
  stopped: ['stopped'],
  failed: [],
} as const satisfies TransitionTable<SessionPhase>;

/**
 * One IMAP connection to one INBOX: connects, waits in IDLE (or polls with STATUS where the server
 * has no IDLE), fetches every UID above the cursor, publishes, then advances the cursor. Probes a
 * quiet connection and gives up on one that does not answer. Never reconnects: `run()` resolves
 * with what ended the connection, and the watcher decides what comes next.
 */
export class MailboxSession {
  private readonly client: ImapFlow;
  private readonly closed: Promise<void>;
  private readonly clock: Clock;
  private readonly lifecycle: Lifecycle<SessionState, typeof SESSION_TRANSITIONS>;
  private readonly commands: CommandQueue;
  private readonly monitor: LivenessMonitor;

  constructor(private readonly deps: SessionDeps) {
    this.clock = deps.clock ?? systemClock;
    this.lifecycle = new Lifecycle<SessionState, typeof SESSION_TRANSITIONS>(
      { phase: 'connecting' },
      SESSION_TRANSITIONS,
      deps.onTransition,
    );
    this.commands = new CommandQueue(
      () => this.isOver(),
      // Whatever failed, the cursor did not move past it: a fresh connection fetches it again.
      (err) => this.fail(err),
    );
    let unparseable = 0;
    this.client = createImapClient(deps.endpoint, deps.resolved, deps.auth, deps.settings.timeouts, {
      manualIdle: true,
      onUnparseable: () => {
        unparseable += 1;
        if (unparseable > UNPARSEABLE_LINE_LIMIT)
          this.fail(watcherError(WatcherErrorCode.Unparseable, 'too many unparseable lines'));
      },
    });
    // An unhandled 'error' would crash the process; imapflow closes the connection after it.
    this.client.on('error', (err: Error) => this.fail(err));
    this.client.on('alert', (alert) => this.deps.onAlert(alert.message));
    this.client.on('exists', () => this.requestSync());
    this.closed = new Promise((resolve) => this.client.once('close', () => resolve()));
    void this.closed.then(() => this.onClosed());
    this.monitor = new LivenessMonitor(
      deps.settings.liveness,
      {
        received: () => this.client.stats().received,
        probe: () => this.commands.track(this.client.noop()),
        dead: (reason, err) => {
          this.deps.onProbeFailed();
          this.deps.logger.warn('connection declared dead: liveness probe unanswered', {
            accountId: deps.accountId,
            reason,
          });
          this.fail(
            err && reason === 'probe_failed'
              ? err
              : watcherError(WatcherErrorCode.ProbeTimeout, 'NOOP probe unanswered'),
          );
        },
      },
      this.clock,
    );
  }

  get phase(): SessionPhase {
    return this.lifecycle.current().phase;
  }

  /** Runs until the connection ends; resolves with the error that ended it, undefined after `stop()`. */
  async run(): Promise<unknown> {
    let mode: WatchMode = 'idle';
    try {
      mode = await this.setup();
    } catch (err) {
      this.fail(err);
    }
    if (this.lifecycle.transition('connecting', { phase: 'watching', mode, stopTimer: noop })) {
      await this.deps.onReady(mode);
      if (this.watching()) {
        this.monitor.start();
        this.startMode(mode);
        await this.idleLoop();
      }
      await this.closed;
    }
    this.monitor.stop();
    this.client.close();
    const end = this.lifecycle.current();
    return end.phase === 'failed' ? end.failure : undefined;
  }

  /** Ends the session from outside (shutdown, account released): logs out politely, briefly. */
  async stop(): Promise<void> {
    const s = this.lifecycle.current();
    if (s.phase === 'stopped' || s.phase === 'failed') return;
    if (s.phase === 'watching') s.stopTimer();
    this.lifecycle.transition(s.phase, { phase: 'stopped', wasReady: s.phase === 'watching' });
    const logout = this.client.logout().catch(() => undefined);
    const timeout = new Promise<void>((resolve) => this.clock.setTimeout(resolve, LOGOUT_TIMEOUT_MS));
    await Promise.race([logout, timeout]);
    this.client.close();
  }

  /** Connects, logs in and opens INBOX; resolves with how INBOX will be watched. */
  private async setup(): Promise<WatchMode> {
    const limitMs = this.deps.settings.timeouts.connectTimeoutMs * SETUP_TIMEOUT_FACTOR;
    let timer: unknown;
    const deadline = new Promise<never>((_, reject) => {
      timer = this.clock.setTimeout(
        () => reject(watcherError(WatcherErrorCode.SetupTimeout, 'login and SELECT took too long')),
        limitMs,
      );
    });
    try {
      // No race with 'close': imapflow settles connect() and every command on close, with the
      // precise reason (a rejected login must stay an auth failure, not become "closed").
      return await Promise.race([this.connectAndOpen(), deadline]);
    } finally {
      this.clock.clearTimeout(timer);
    }
  }

  private async connectAndOpen(): Promise<WatchMode> {
    await this.client.connect();
    if (this.lifecycle.current().phase !== 'connecting') return 'idle';
    // Read CAPABILITY, never assume: Yahoo has historically had no IDLE.
    const mode = this.client.capabilities.has('IDLE') ? 'idle' : 'polling';
    // EXAMINE: read-only, so watching never clears \Recent for the person's own clients.
    if (mode === 'idle') await this.client.mailboxOpen('INBOX', { readOnly: true });
    return mode;
  }

  /** Enters `mode`: the re-IDLE timer and a first sync, or the poll timer and a first poll. */
  private startMode(mode: WatchMode): void {
    const s = this.lifecycle.current();
    if (s.phase !== 'watching') return;
    s.stopTimer();
    const stopTimer =
      mode === 'idle'
        ? repeat(this.clock, this.deps.settings.reIdleMs, () => void this.commands.enqueue(() => this.recheck()))
        : repeat(this.clock, this.deps.settings.pollIntervalMs, () => void this.commands.enqueue(() => this.poll()));
    this.lifecycle.transition('watching', { phase: 'watching', mode, stopTimer });
    if (mode === 'idle') this.requestSync();
    else void this.commands.enqueue(() => this.poll());
  }

  /** Stays in IDLE whenever nothing else is running; every command of ours breaks it first. */
  private async idleLoop(): Promise<void> {
    let quick = 0;
    while (this.watching() === 'idle') {
      await this.commands.drained();
      if (this.isOver()) break;
      const startedAt = this.clock.now();
      const result = await this.client.idle().catch((err: unknown) => {
        this.fail(err);
        return false;
      });
      if (this.isOver()) break;
      if (!this.client.usable) {
        // The connection is going away: 'close' (or 'error') ends the session in a moment.
        await this.closed;
        break;
      }
      const broken = this.commands.pending > 0;
      quick = !broken && this.clock.now() - startedAt < QUICK_IDLE_MS ? quick + 1 : 0;
      if ((result === false && !broken) || quick >= QUICK_IDLE_LIMIT) {
        this.deps.logger.warn('the server refuses IDLE; polling instead', { accountId: this.deps.accountId });
        const s = this.lifecycle.current();
        if (s.phase === 'watching') this.lifecycle.transition('watching', { ...s, mode: 'polling' });
        await this.deps.onModeChange('polling');
        this.startMode('polling');
      }
    }
  }

  /** Re-IDLE: NOOP (where the server reports anything a lost IDLE notice hid), then fetch above the cursor. */
  private async recheck(): Promise<void> {
    await this.client.noop();
    await this.syncSelected();
  }

  /**
   * A STATUS of INBOX, not selected (RFC 3501 6.3.10: STATUS is not the way to check the selected
   * mailbox): cheap for the server. INBOX is examined only when UIDNEXT moved.
   */
  private async poll(): Promise<void> {
    const status = await this.client.status('INBOX', { uidNext: true, uidValidity: true, messages: true });
    if (!status || status.uidNext === undefined || status.uidValidity === undefined) {
      throw watcherError('PollFailed', 'STATUS INBOX did not report UIDNEXT/UIDVALIDITY');
    }
    const cursor = await this.deps.loadCursor();
    const changed =
      !cursor ||
      cursor.uidValidity !== Number(status.uidValidity) ||
      status.uidNext - 1 > cursor.lastUid ||
      cursor.pendingSummary !== undefined;
    if (!changed) return;
    const wasSelected = this.client.mailbox !== false;
    if (!wasSelected) await this.client.mailboxOpen('INBOX', { readOnly: true });
    try {
      await this.syncSelected();
    } finally {
      if (!wasSelected && this.client.usable) await this.client.mailboxClose();
    }
  }

  private requestSync(): void {
    if (this.watching() === 'idle') this.commands.enqueueCoalesced(() => this.syncSelected());
  }

  /** Publish first, then advance the cursor: at-least-once, made exactly-once by the job ids. */
  private async syncSelected(): Promise<void> {
    const mailbox = this.client.mailbox;
    if (this.isOver() || !mailbox) return;
    const uidValidity = Number(mailbox.uidValidity);
    let cursor = await this.deps.loadCursor();
    if (!cursor || cursor.uidValidity !== uidValidity) {
      // New UIDVALIDITY: old UIDs mean nothing now. Start at the top without notifying history.
      const top = await this.highestUid();
      this.deps.logger.info('starting the cursor at the top of INBOX', {
        accountId: this.deps.accountId,
        uidValidity,
        lastUid: top,
        previous: cursor?.uidValidity,
      });
      await this.save({ uidValidity, lastUid: top });
      return;
    }
    const pending = cursor.pendingSummary;
    if (pending && pending.uidValidity === uidValidity && pending.coversUpTo > cursor.lastUid) {
      // A summary reserved before a crash or a lost connection: the same one again (same job id).
      await this.deps.publish({ kind: 'summary', summary: pending });
      await this.save({ uidValidity, lastUid: pending.coversUpTo });
      cursor = { uidValidity, lastUid: pending.coversUpTo };
    }
    if (mailbox.exists === 0) return;
    const { summaryThreshold, notifySeen } = this.deps.settings;
    // UIDNEXT is exact right after SELECT (the catch-up) and only a hint later: a large gap is
    // fetched without envelopes first, so a week of mail costs flags, not envelopes.
    const wide = mailbox.uidNext - 1 - cursor.lastUid > summaryThreshold;
    const rows: CatchUpRow[] = [];
    const envelopes = new Map<number, NewMessage>();
    const lastUid = cursor.lastUid;
    // `n:*` returns the last message even when nothing is above n: drop UIDs <= lastUid.
    for await (const msg of this.client.fetch(
      `${lastUid + 1}:*`,
      { uid: true, flags: true, envelope: !wide, internalDate: !wide },
      { uid: true },
    )) {
      if (msg.uid <= lastUid) continue;
      const seen = msg.flags?.has(SEEN) ?? false;
      rows.push({ uid: msg.uid, seen });
      if (!wide && (notifySeen || !seen) && envelopes.size <= summaryThreshold)
        envelopes.set(msg.uid, toNewMessage(uidValidity, msg));
    }
    const plan = planCatchUp(uidValidity, rows, { notifySeen, summaryThreshold });
    switch (plan.kind) {
      case 'none':
        if (rows.length > 0) await this.save({ uidValidity, lastUid: plan.coversUpTo });
        return;
      case 'summary':
        if (!(await this.deps.reserveSummary(plan.summary))) throw new LeaseLost('lease lost');
        await this.deps.publish({ kind: 'summary', summary: plan.summary, ...(await this.unseenCount()) });
        await this.save({ uidValidity, lastUid: plan.summary.coversUpTo });
        return;
      case 'messages': {
        const missing = plan.uids.filter((uid) => !envelopes.has(uid));
        if (missing.length > 0) {
          for await (const msg of this.client.fetch(
            missing.join(','),
            { uid: true, flags: true, envelope: true, internalDate: true },
            { uid: true },
          )) {
            envelopes.set(msg.uid, toNewMessage(uidValidity, msg));
          }
        }
        const messages = plan.uids.map((uid) => envelopes.get(uid)).filter((m): m is NewMessage => m !== undefined);
        await this.deps.publish({ kind: 'messages', messages, ...(await this.unseenCount()) });
        await this.save({ uidValidity, lastUid: plan.coversUpTo });
        return;
      }
    }
  }

  /**
   * INBOX's unseen count for the app badge. STATUS on the selected mailbox is discouraged by
   * RFC 3501 but answered by the servers we know; one that refuses just gets no badge.
   */
  private async unseenCount(): Promise<{ unseen?: number }> {
    try {
      const status = await this.client.status('INBOX', { unseen: true });
      return status && typeof status.unseen === 'number' ? { unseen: status.unseen } : {};
    } catch (err) {
      if (!this.client.usable) throw err;
      return {};
    }
  }

  private async highestUid(): Promise<number> {
    const mailbox = this.client.mailbox;
    if (!mailbox || mailbox.exists === 0) return Math.max(0, (mailbox ? mailbox.uidNext : 1) - 1);
    const last = await this.client.fetchOne('*', { uid: true }, { uid: false });
    return last ? last.uid : Math.max(0, mailbox.uidNext - 1);
  }

  private async save(cursor: MailboxCursor): Promise<void> {
    if (!(await this.deps.saveCursor(cursor))) throw new LeaseLost('lease lost');
  }

  /** The mode INBOX is watched in, while the session is watching. */
  private watching(): WatchMode | undefined {
    const s = this.lifecycle.current();
    return s.phase === 'watching' ? s.mode : undefined;
  }

  private isOver(): boolean {
    const phase = this.lifecycle.current().phase;
    return phase === 'stopped' || phase === 'failed';
  }

  private fail(err: unknown): void {
    const failure = err ?? watcherError(WatcherErrorCode.ConnectionClosed, 'closed');
    const s = this.lifecycle.current();
    if (s.phase === 'stopped') {
      if (s.failure === undefined) this.lifecycle.transition('stopped', { ...s, failure });
      return;
    }
    if (s.phase === 'failed') return;
    if (s.phase === 'watching') s.stopTimer();
    this.lifecycle.transition(s.phase, { phase: 'failed', wasReady: s.phase === 'watching', failure });
    this.monitor.stop();
    this.commands.wake();
    if (err instanceof LeaseLost)
      this.deps.logger.warn('lease lost while advancing the cursor; letting the account go', {
        accountId: this.deps.accountId,
      });
    this.client.close();
  }

  private onClosed(): void {
    if (!this.isOver()) this.fail(this.closeReason());
  }

  /** `close` may come without `error` (a BYE, a killed server, some network errors). */
  private closeReason(): Error {
    return this.client.byeReason
      ? Object.assign(watcherError(WatcherErrorCode.ServerBye, 'server said BYE'), {
          responseText: this.client.byeReason,
        })
      : watcherError(WatcherErrorCode.ConnectionClosed, 'connection closed');
  }

  /** Whether the connection got as far as logged in with INBOX watched. */
  get wasReady(): boolean {
    const s = this.lifecycle.current();
    return s.phase === 'watching' || ((s.phase === 'stopped' || s.phase === 'failed') && s.wasReady);
  }

  /** True when the session ended because its lease is gone (the account must be let go). */
  get leaseLost(): boolean {
    const s = this.lifecycle.current();
    return (s.phase === 'stopped' || s.phase === 'failed') && s.failure instanceof LeaseLost;
  }
}

function toNewMessage(uidValidity: number, msg: FetchMessageObject): NewMessage {
  const from = msg.envelope?.from?.[0];
  return {
    uidValidity,
    uid: msg.uid,
    ...(from
      ? { from: { ...(from.name ? { name: from.name } : {}), ...(from.address ? { address: from.address } : {}) } }
      : {}),
    ...(msg.envelope?.subject ? { subject: msg.envelope.subject } : {}),
    ...(msg.envelope?.date ? { date: new Date(msg.envelope.date).toISOString() } : {}),
    ...arrivedAt(msg.internalDate),
    seen: msg.flags?.has(SEEN) ?? false,
  };
}

/** INTERNALDATE: when the server received the message (for end-to-end latency), if it parses. */
function arrivedAt(internalDate: Date | string | undefined): { arrivedAt?: number } {
  const ms = internalDate === undefined ? NaN : new Date(internalDate).getTime();
  return Number.isFinite(ms) ? { arrivedAt: ms } : {};
}
