import { ClassifiedFailure, ErrorClass, classifyImapError, type ClassifiedError } from '@mailpush/errors';
import type { Logger } from '@mailpush/logging';
import type {
  AccountCredentials,
  AccountStatusUpdate,
  CursorWrite,
  ImapEndpoint,
  MailboxCursor,
  PendingSummary,
} from '@mailpush/store';
import type { AccessTokenSource } from './access-token-source';
import { systemClock, type Clock } from './clock';
import type { NewMail } from './catch-up-plan';
import type { ConnectPacer } from './connect-pacer';
import { endpointRefusal, resolveImapEndpoint, type ImapEndpointPolicy } from './endpoint-policy';
import type { ResolvedHost } from './host-guard';
import type { ImapAuth } from './imap-client.factory';
import { MailboxSession, type SessionSettings, type SessionState, type WatchMode } from './mailbox-session';
import { Lifecycle, type StateIn, type TransitionTable } from './lifecycle';
import { ReconnectBackoff, type BackoffSettings } from './reconnect-policy';
import { sanitizeAlert } from './server-alert';

export interface WatchSettings extends Omit<SessionSettings, 'notifySeen'> {
  backoff: BackoffSettings;
}

/** Counters the worker exports; all optional so the watcher stays free of a metrics library. */
export interface WatcherTelemetry {
  connected?(outcome: string): void;
  paced?(waitedMs: number): void;
  reconnect?(error: ClassifiedError): void;
  probeFailed?(): void;
  authFailed?(): void;
}

export interface MailboxWatcherDeps {
  accountId: string;
  endpoint: ImapEndpoint;
  /** Ports, private hosts and cleartext: the same rule as the login check. */
  policy: ImapEndpointPolicy;
  settings: WatchSettings;
  notifySeen: boolean;
  pacer: Pick<ConnectPacer, 'acquire'>;
  logger: Logger;
  telemetry?: WatcherTelemetry;
  loadCredentials(): Promise<AccountCredentials | null>;
  loadCursor(): Promise<MailboxCursor | null>;
  /** Must only write while this watcher still owns the account. */
  saveCursor(cursor: MailboxCursor): Promise<CursorWrite>;
  reserveSummary(summary: PendingSummary): Promise<CursorWrite>;
  /** Durably records the mail (enqueue); the cursor advances only after it resolves. */
  publish(mail: NewMail): Promise<void>;
  /** `credentialsVersion`: apply only while the account still has these credentials. */
  reportStatus(update: AccountStatusUpdate, credentialsVersion: number | undefined): Promise<void>;
  /** OAuth2 accounts: where access tokens come from (refreshed before expiry and when refused). */
  tokens?: AccessTokenSource;
  /**
   * The credentials were refused for good (`auth_failed`, `reauth_required`): called before the
   * account is marked `auth_error`, so a crash in between repeats it rather than skips it (the
   * Reconnect notification it triggers is idempotent per credentials version).
   */
  announceAuthError?(failure: ClassifiedError, credentialsVersion: number): Promise<void>;
  /** Time source for the watcher's and its sessions' timers (specs drive time by hand). Default: real time. */
  clock?: Clock;
  /** Sees every state change of the watcher, and of each of its sessions (specs; tracing). */
  onTransition?(from: WatcherState, to: WatcherState): void;
  onSessionTransition?(from: SessionState, to: SessionState): void;
  /** The credentials were rejected: the watcher has stopped and will not retry them. */
  onAuthError(): void;
  /** A cursor write showed another worker owns the account now. */
  onOwnershipLost(): void;
}

/** A refresh that failed for a passing reason is tried again this soon (the session stays up meanwhile). */
const REFRESH_RETRY_MS = 15_000;
const MIN_REFRESH_DELAY_MS = 1_000;

/**
 * A watcher's lifecycle. `created`: not started. `connecting`: credentials, endpoint check,
 * pacing. `session`: a connection is up or coming up (`mode` once INBOX is watched; the access
 * token's refresh timer; a grant refused while connected). `disconnected`: the connection ended,
 * deciding what next. `backoff`: waiting to reconnect. `stopped`: for good (`reason`).
 */
export type WatcherState =
  | { readonly phase: 'created' }
  | { readonly phase: 'connecting' }
  | {
      readonly phase: 'session';
      readonly session: MailboxSession;
      readonly mode?: WatchMode;
      /** When the access token in use wants refreshing (OAuth2). */
      readonly refreshAt?: number;
      readonly cancelRefresh?: () => void;
      readonly grantFailure?: ClassifiedError;
    }
  | { readonly phase: 'disconnected' }
  | { readonly phase: 'backoff'; readonly wake: () => void }
  | { readonly phase: 'stopped'; readonly reason: StopReason };

export type WatcherPhase = WatcherState['phase'];
export type StopReason = 'owner' | 'auth_error' | 'ownership_lost' | 'account_gone';

export const WATCHER_TRANSITIONS = {
  created: ['connecting', 'stopped'],
  connecting: ['session', 'disconnected', 'stopped'],
  // session -> session: INBOX watched (or its mode changed), the refresh timer, a refused grant.
  session: ['session', 'disconnected', 'stopped'],
  // disconnected -> connecting: at once, to retry a refused access token with a fresh one.
  disconnected: ['connecting', 'backoff', 'stopped'],
  backoff: ['connecting', 'stopped'],
  stopped: [],
} as const satisfies TransitionTable<WatcherPhase>;

/**
 * Keeps one account watched for as long as this worker owns it: one connection after another
 * (imapflow never reconnects), paced, with backoff keyed off the error class. Stops for good on
 * an authentication failure: retrying a rejected password gets accounts locked by providers.
 */
export class MailboxWatcher {
  private readonly abort = new AbortController();
  private readonly backoff: ReconnectBackoff;
  private readonly clock: Clock;
  private readonly lifecycle: Lifecycle<WatcherState, typeof WATCHER_TRANSITIONS>;
  private running: Promise<void> | undefined;
  private credentialsVersion: number | undefined;
  /** The password or access token in use: masked should a server echo it in an alert. */
  private secret: string | undefined;
  /** The access token the server just refused: the next connect asks the token source for another. */
  private refusedToken: string | undefined;
  private retriedRefusedToken = false;
  private alert: string | undefined;

  constructor(private readonly deps: MailboxWatcherDeps) {
    this.clock = deps.clock ?? systemClock;
    this.backoff = new ReconnectBackoff(deps.settings.backoff, () => this.clock.now());
    this.lifecycle = new Lifecycle<WatcherState, typeof WATCHER_TRANSITIONS>(
      { phase: 'created' },
      WATCHER_TRANSITIONS,
      deps.onTransition,
    );
  }

  get phase(): WatcherPhase {
    return this.lifecycle.current().phase;
  }

  start(): void {
    this.running ??= this.loop().catch((err: unknown) => {
      this.deps.logger.error('watcher loop failed', { accountId: this.deps.accountId, err });
    });
  }

  async stop(): Promise<void> {
    const s = this.lifecycle.current();
    if (s.phase !== 'stopped') {
      this.lifecycle.transition(s.phase, { phase: 'stopped', reason: 'owner' });
      if (s.phase === 'session') s.cancelRefresh?.();
      if (s.phase === 'backoff') s.wake();
    }
    this.abort.abort();
    if (s.phase === 'session') await s.session.stop();
    await this.running;
  }

  private async loop(): Promise<void> {
    for (;;) {
      const from = this.lifecycle.current();
      if (from.phase === 'stopped') break;
      this.lifecycle.transition(from.phase, { phase: 'connecting' });
      let failure: ClassifiedError | undefined;
      try {
        failure = await this.connectOnce();
      } catch (err) {
        failure = classifyImapError(err);
      }
      const s = this.lifecycle.current();
      if (s.phase === 'stopped' || !failure) break;
      if (s.phase === 'connecting') this.lifecycle.transition('connecting', { phase: 'disconnected' });
      if (s.phase === 'session') this.endSession(s);
      if (
        failure.errorClass === ErrorClass.Auth &&
        failure.code === 'auth_failed' &&
        this.refusedToken !== undefined &&
        !this.retriedRefusedToken
      ) {
        // The server refused the access token: one refresh and one immediate retry, then classify.
        this.retriedRefusedToken = true;
        this.deps.logger.info('the server refused the access token; refreshing it and retrying once', {
          accountId: this.deps.accountId,
        });
        continue;
      }
      if (failure.errorClass === ErrorClass.Auth) {
        this.deps.telemetry?.authFailed?.();
        this.deps.logger.warn('authentication failed; not retrying until the credentials change', {
          accountId: this.deps.accountId,
        });
        if (this.credentialsVersion !== undefined) {
          await this.deps.announceAuthError?.(failure, this.credentialsVersion).catch((err: unknown) => {
            this.deps.logger.warn('could not announce the authentication failure', {
              accountId: this.deps.accountId,
              err,
            });
          });
        }
        await this.report({
          status: 'auth_error',
          lastError: failure.message,
          nextAttemptAt: null,
          alert: this.alert ?? null,
        });
        this.lifecycle.transition('disconnected', { phase: 'stopped', reason: 'auth_error' });
        this.deps.onAuthError();
        break;
      }
      const delay = this.backoff.failed(failure);
      this.deps.telemetry?.reconnect?.(failure);
      this.deps.logger.info('connection ended; reconnecting after backoff', {
        accountId: this.deps.accountId,
        code: failure.code,
        errorClass: failure.errorClass,
        delayMs: delay,
        failures: this.backoff.consecutiveFailures,
      });
      await this.report({
        status: 'backoff',
        lastError: failure.message,
        nextAttemptAt: new Date(this.clock.now() + delay).toISOString(),
        alert: this.alert ?? null,
      });
      await this.sleep(delay);
    }
  }

  /** One connection's life. Resolves with why it ended, or undefined when the watcher stopped. */
  private async connectOnce(): Promise<ClassifiedError | undefined> {
    await this.report({ status: 'connecting' });
    const credentials = await this.deps.loadCredentials();
    if (!credentials) {
      this.lifecycle.transition('connecting', { phase: 'stopped', reason: 'account_gone' });
      return undefined;
    }
    this.credentialsVersion = credentials.version;
    let auth: ImapAuth;
    let refreshAt: number | undefined;
    if (credentials.kind === 'oauth2') {
      if (!this.deps.tokens) {
        return {
          errorClass: ErrorClass.Permanent,
          code: 'oauth_unavailable',
          message: 'Sign-in with this provider is not configured',
        };
      }
      const refused = this.refusedToken;
      let token;
      try {
        token = await this.deps.tokens.accessToken(refused);
      } catch (err) {
        if (err instanceof ClassifiedFailure) return err.classified;
        throw err;
      }
      this.refusedToken = token.accessToken;
      this.secret = token.accessToken;
      auth = { user: credentials.username, accessToken: token.accessToken };
      refreshAt = token.refreshAt;
    } else {
      this.secret = credentials.password;
      auth = { user: credentials.username, pass: credentials.password };
    }
    let resolved: ResolvedHost;
    try {
      resolved = await resolveImapEndpoint(this.deps.endpoint, this.deps.policy);
    } catch (err) {
      const refusal = endpointRefusal(err);
      if (refusal) return refusal;
      throw err;
    }
    const waitStart = this.clock.now();
    if (!(await this.deps.pacer.acquire(this.deps.endpoint.host, this.abort.signal))) return undefined;
    if (this.lifecycle.current().phase !== 'connecting') return undefined;
    this.deps.telemetry?.paced?.(this.clock.now() - waitStart);

    this.alert = undefined;
    const session = new MailboxSession({
      accountId: this.deps.accountId,
      endpoint: this.deps.endpoint,
      resolved,
      auth,
      settings: { ...this.deps.settings, notifySeen: this.deps.notifySeen },
      logger: this.deps.logger,
      loadCursor: () => this.deps.loadCursor(),
      saveCursor: async (cursor) => kept(await this.deps.saveCursor(cursor)),
      reserveSummary: async (summary) => kept(await this.deps.reserveSummary(summary)),
      publish: (mail) => this.deps.publish(mail),
      onReady: (mode) => this.onReady(mode),
      onModeChange: (mode) => this.onReady(mode),
      onAlert: (text) => this.onAlert(text),
      onProbeFailed: () => this.deps.telemetry?.probeFailed?.(),
      clock: this.clock,
      ...(this.deps.onSessionTransition ? { onTransition: this.deps.onSessionTransition } : {}),
    });
    this.lifecycle.transition('connecting', {
      phase: 'session',
      session,
      ...(refreshAt !== undefined ? { refreshAt } : {}),
    });
    const ended = await session.run();
    const s = this.lifecycle.current();
    // Not in `session` any more: the watcher was stopped meanwhile.
    if (s.phase !== 'session') {
      if (session.leaseLost) this.deps.onOwnershipLost();
      return undefined;
    }
    const grantFailure = this.endSession(s);
    if (grantFailure) return grantFailure;
    if (session.leaseLost) {
      this.lifecycle.transition('disconnected', { phase: 'stopped', reason: 'ownership_lost' });
      this.deps.onOwnershipLost();
      return undefined;
    }
    if (ended === undefined) return undefined;
    const failure = classifyImapError(ended);
    if (!session.wasReady) this.deps.telemetry?.connected?.(failure.code);
    return failure;
  }

  /** The session is over: its refresh timer goes; a grant refused while it ran is returned. */
  private endSession(s: StateIn<WatcherState, 'session'>): ClassifiedError | undefined {
    s.cancelRefresh?.();
    this.lifecycle.transition('session', { phase: 'disconnected' });
    return s.grantFailure;
  }

  private async onReady(mode: WatchMode): Promise<void> {
    const s = this.lifecycle.current();
    if (s.phase !== 'session') return;
    this.lifecycle.transition('session', { ...s, mode });
    if (s.mode === undefined) {
      this.backoff.ready();
      this.deps.telemetry?.connected?.('ok');
      // The token worked: a later refusal gets its own refresh and retry.
      this.refusedToken = undefined;
      this.retriedRefusedToken = false;
      if (s.refreshAt !== undefined) this.scheduleRefresh(s.refreshAt);
    }
    this.deps.logger.info(
      mode === 'idle' ? 'watching INBOX with IDLE' : 'watching INBOX by polling (server has no IDLE)',
      {
        accountId: this.deps.accountId,
      },
    );
    await this.report({ status: mode, lastError: null, nextAttemptAt: null, alert: this.alert ?? null });
  }

  /**
   * Refreshes a live session's access token before it expires. The IMAP session stays logged in
   * (a server that ends it at expiry gets a reconnect with the new token); refreshing keeps the
   * grant alive (sliding refresh-token lifetimes) and notices a revoked grant while connected.
   */
  private scheduleRefresh(at: number): void {
    const s = this.lifecycle.current();
    const tokens = this.deps.tokens;
    if (s.phase !== 'session' || !tokens) return;
    s.cancelRefresh?.();
    const handle = this.clock.setTimeout(
      () => {
        const now = this.lifecycle.current();
        if (now.phase === 'session') this.lifecycle.transition('session', { ...now, cancelRefresh: undefined });
        void tokens.accessToken().then(
          (token) => {
            this.secret = token.accessToken;
            if (this.liveMode() !== undefined) this.scheduleRefresh(token.refreshAt);
          },
          (err: unknown) => {
            const failure = err instanceof ClassifiedFailure ? err.classified : undefined;
            const current = this.lifecycle.current();
            if (failure?.errorClass === ErrorClass.Auth && current.phase === 'session') {
              this.lifecycle.transition('session', { ...current, grantFailure: failure });
              void current.session.stop();
              return;
            }
            this.deps.logger.info('access token refresh failed; retrying', {
              accountId: this.deps.accountId,
              code: failure?.code ?? 'error',
            });
            if (this.liveMode() !== undefined) this.scheduleRefresh(this.clock.now() + REFRESH_RETRY_MS);
          },
        );
      },
      Math.max(MIN_REFRESH_DELAY_MS, at - this.clock.now()),
    );
    this.lifecycle.transition('session', {
      ...s,
      refreshAt: undefined,
      cancelRefresh: () => this.clock.clearTimeout(handle),
    });
  }

  /** How INBOX is watched right now, if it is. */
  private liveMode(): WatchMode | undefined {
    const s = this.lifecycle.current();
    return s.phase === 'session' ? s.mode : undefined;
  }

  private onAlert(text: string): void {
    const alert = sanitizeAlert(text, this.secret ? [this.secret] : []);
    if (!alert) return;
    this.alert = alert;
    this.deps.logger.info('server alert', { accountId: this.deps.accountId });
    const mode = this.liveMode();
    if (mode) void this.report({ status: mode, alert });
  }

  private async report(update: AccountStatusUpdate): Promise<void> {
    if (this.lifecycle.current().phase === 'stopped' && update.status !== 'auth_error') return;
    await this.deps.reportStatus(update, this.credentialsVersion).catch((err: unknown) => {
      this.deps.logger.warn('could not record account status', { accountId: this.deps.accountId, err });
    });
  }

  /** Backoff: waits `ms`, or less when stopped meanwhile. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const handle = this.clock.setTimeout(wake, ms);
      const clock = this.clock;
      function wake(): void {
        clock.clearTimeout(handle);
        resolve();
      }
      if (!this.lifecycle.transition('disconnected', { phase: 'backoff', wake })) wake();
    });
  }
}

/** A cursor write the watcher may go on after: not when the lease was lost or the account deleted. */
function kept(write: CursorWrite): boolean {
  return write === 'advanced' || write === 'unchanged';
}
