import { ErrorClass, classifyImapError, type ClassifiedError } from '../errors';
import type { Logger } from '../logging';
import type {
  AccountCredentials,
  AccountStatusUpdate,
  CursorWrite,
  ImapEndpoint,
  MailboxCursor,
  PendingSummary,
} from '../store';
import type { NewMail } from './catch-up-plan';
import type { ConnectPacer } from './connect-pacer';
import { endpointRefusal, resolveImapEndpoint, type ImapEndpointPolicy } from './endpoint-policy';
import type { ResolvedHost } from './host-guard';
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
  /** The credentials were rejected: the watcher has stopped and will not retry them. */
  onAuthError(): void;
  /** A cursor write showed another worker owns the account now. */
  onOwnershipLost(): void;
}

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
  private password: string | undefined;
  private alert: string | undefined;
  private live: WatchMode | undefined;

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
      if (failure.errorClass === ErrorClass.Auth) {
        this.deps.telemetry?.authFailed?.();
        this.deps.logger.warn('authentication failed; not retrying until the credentials change', {
          accountId: this.deps.accountId,
        });
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
    this.password = credentials.password;
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
      auth: { user: credentials.username, pass: credentials.password },
      settings: { ...this.deps.settings, notifySeen: this.deps.notifySeen },
      logger: this.deps.logger,
      loadCursor: () => this.deps.loadCursor(),
      saveCursor: async (cursor) => (await this.deps.saveCursor(cursor)) !== 'lease_lost',
      reserveSummary: async (summary) => (await this.deps.reserveSummary(summary)) !== 'lease_lost',
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

  private onAlert(text: string): void {
    const alert = sanitizeAlert(text, this.password ? [this.password] : []);
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
