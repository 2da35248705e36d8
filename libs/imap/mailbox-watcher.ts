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
import type { NewMail } from './catch-up-plan';
import type { ConnectPacer } from './connect-pacer';
import { endpointRefusal, resolveImapEndpoint, type ImapEndpointPolicy } from './endpoint-policy';
import type { ResolvedHost } from './host-guard';
import type { ImapAuth } from './imap-client.factory';
import { MailboxSession, type SessionSettings, type WatchMode } from './mailbox-session';
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
  /** The credentials were rejected: the watcher has stopped and will not retry them. */
  onAuthError(): void;
  /** A cursor write showed another worker owns the account now. */
  onOwnershipLost(): void;
}

/** A refresh that failed for a passing reason is tried again this soon (the session stays up meanwhile). */
const REFRESH_RETRY_MS = 15_000;
const MIN_REFRESH_DELAY_MS = 1_000;

/**
 * Keeps one account watched for as long as this worker owns it: one connection after another
 * (imapflow never reconnects), paced, with backoff keyed off the error class. Stops for good on
 * an authentication failure: retrying a rejected password gets accounts locked by providers.
 */
export class MailboxWatcher {
  private stopped = false;
  private readonly abort = new AbortController();
  private session: MailboxSession | undefined;
  private wakeFromBackoff: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private readonly backoff: ReconnectBackoff;
  private credentialsVersion: number | undefined;
  /** The password or access token in use: masked should a server echo it in an alert. */
  private secret: string | undefined;
  /** The access token the server just refused: the next connect asks the token source for another. */
  private refusedToken: string | undefined;
  private retriedRefusedToken = false;
  private refreshTimer: NodeJS.Timeout | undefined;
  /** A live session's token could not be refreshed for good: why the session was ended. */
  private grantFailure: ClassifiedError | undefined;
  private alert: string | undefined;
  private live: WatchMode | undefined;
  private pendingRefreshAt: number | undefined;

  constructor(private readonly deps: MailboxWatcherDeps) {
    this.backoff = new ReconnectBackoff(deps.settings.backoff);
  }

  start(): void {
    this.running ??= this.loop().catch((err: unknown) => {
      this.deps.logger.error('watcher loop failed', { accountId: this.deps.accountId, err });
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.clearRefresh();
    this.abort.abort();
    this.wakeFromBackoff?.();
    await this.session?.stop();
    await this.running;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      let failure: ClassifiedError | undefined;
      try {
        failure = await this.connectOnce();
      } catch (err) {
        failure = classifyImapError(err);
      }
      if (this.stopped || !failure) break;
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
        this.stopped = true;
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
        nextAttemptAt: new Date(Date.now() + delay).toISOString(),
        alert: this.alert ?? null,
      });
      await this.sleep(delay);
    }
  }

  /** One connection's life. Resolves with why it ended, or undefined when the watcher stopped. */
  private async connectOnce(): Promise<ClassifiedError | undefined> {
    this.live = undefined;
    await this.report({ status: 'connecting' });
    const credentials = await this.deps.loadCredentials();
    if (!credentials) {
      this.stopped = true;
      return undefined;
    }
    this.credentialsVersion = credentials.version;
    let auth: ImapAuth;
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
      this.pendingRefreshAt = token.refreshAt;
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
    const waitStart = Date.now();
    if (!(await this.deps.pacer.acquire(this.deps.endpoint.host, this.abort.signal)) || this.stopped) return undefined;
    this.deps.telemetry?.paced?.(Date.now() - waitStart);

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
    });
    this.session = session;
    const ended = await session.run();
    this.session = undefined;
    this.live = undefined;
    this.clearRefresh();
    const grantFailure = this.grantFailure;
    this.grantFailure = undefined;
    if (grantFailure && !this.stopped) return grantFailure;
    if (session.leaseLost) {
      this.stopped = true;
      this.deps.onOwnershipLost();
      return undefined;
    }
    if (this.stopped || ended === undefined) return undefined;
    const failure = classifyImapError(ended);
    if (!session.wasReady) this.deps.telemetry?.connected?.(failure.code);
    return failure;
  }

  private async onReady(mode: WatchMode): Promise<void> {
    if (this.live === undefined) {
      this.backoff.ready();
      this.deps.telemetry?.connected?.('ok');
      // The token worked: a later refusal gets its own refresh and retry.
      this.refusedToken = undefined;
      this.retriedRefusedToken = false;
      if (this.pendingRefreshAt !== undefined) this.scheduleRefresh(this.pendingRefreshAt);
    }
    this.live = mode;
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
    this.clearRefresh();
    const tokens = this.deps.tokens;
    if (!tokens || this.stopped) return;
    this.refreshTimer = setTimeout(
      () => {
        this.refreshTimer = undefined;
        void tokens.accessToken().then(
          (token) => {
            this.secret = token.accessToken;
            if (this.live !== undefined) this.scheduleRefresh(token.refreshAt);
          },
          (err: unknown) => {
            const failure = err instanceof ClassifiedFailure ? err.classified : undefined;
            if (failure?.errorClass === ErrorClass.Auth && this.session) {
              this.grantFailure = failure;
              void this.session.stop();
              return;
            }
            this.deps.logger.info('access token refresh failed; retrying', {
              accountId: this.deps.accountId,
              code: failure?.code ?? 'error',
            });
            if (this.live !== undefined) this.scheduleRefresh(Date.now() + REFRESH_RETRY_MS);
          },
        );
      },
      Math.max(MIN_REFRESH_DELAY_MS, at - Date.now()),
    );
    this.refreshTimer.unref();
  }

  private clearRefresh(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = undefined;
    this.pendingRefreshAt = undefined;
  }

  private onAlert(text: string): void {
    const alert = sanitizeAlert(text, this.secret ? [this.secret] : []);
    if (!alert) return;
    this.alert = alert;
    this.deps.logger.info('server alert', { accountId: this.deps.accountId });
    if (this.live) void this.report({ status: this.live, alert });
  }

  private async report(update: AccountStatusUpdate): Promise<void> {
    if (this.stopped && update.status !== 'auth_error') return;
    await this.deps.reportStatus(update, this.credentialsVersion).catch((err: unknown) => {
      this.deps.logger.warn('could not record account status', { accountId: this.deps.accountId, err });
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wakeFromBackoff = done;
    });
  }
}

/** A cursor write the watcher may go on after: not when the lease was lost or the account deleted. */
function kept(write: CursorWrite): boolean {
  return write === 'advanced' || write === 'unchanged';
}
