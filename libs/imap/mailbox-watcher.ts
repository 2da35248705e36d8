import type { FetchMessageObject, ImapFlow } from 'imapflow';
import { ErrorClass, classifyImapError, type ClassifiedError } from '../errors';
import type { Logger } from '../logging';
import type { AccountStatusUpdate, CursorWrite, ImapEndpoint, MailboxCursor } from '../store';
import { HostNotAllowedError, HostNotFoundError, resolveImapHost } from './host-guard';
import { createImapClient, type ImapTimeouts } from './imap-client.factory';
import { STABLE_CONNECTION_MS, reconnectDelayMs } from './reconnect-policy';

export interface NewMessage {
  uidValidity: number;
  uid: number;
  from?: { name?: string; address?: string };
  subject?: string;
  date?: string;
  seen: boolean;
}

export interface MailboxWatcherDeps {
  accountId: string;
  endpoint: ImapEndpoint;
  allowPrivateHosts: boolean;
  timeouts: ImapTimeouts;
  /** How often to re-check above the cursor even without an EXISTS (IDLE notices can be lost). */
  recheckIntervalMs: number;
  /** Poll interval for servers without IDLE. */
  pollIntervalMs: number;
  logger: Logger;
  loadCredentials(): Promise<{ username: string; password: string } | null>;
  loadCursor(): Promise<MailboxCursor | null>;
  /** Must only write while this watcher still owns the account. */
  saveCursor(cursor: MailboxCursor): Promise<CursorWrite>;
  /** Durably records the messages (enqueue); the cursor advances only after it resolves. */
  publish(messages: NewMessage[]): Promise<void>;
  reportStatus(update: AccountStatusUpdate): Promise<void>;
  /** Called when the cursor write shows another worker owns the account now. */
  onOwnershipLost(): void;
}

const SEEN = '\\Seen';

/**
 * Holds one IMAP connection to one account's INBOX: waits in IDLE (or polls), fetches every UID
 * above the cursor, publishes, then advances the cursor. Reconnects from `close` (imapflow never
 * reconnects by itself) with jittered backoff; stops for good on an authentication failure.
 */
export class MailboxWatcher {
  private stopped = false;
  private client: ImapFlow | undefined;
  private wakeFromBackoff: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private syncing: Promise<void> | undefined;
  private syncAgain = false;
  private failures = 0;

  constructor(private readonly deps: MailboxWatcherDeps) {}

  start(): void {
    this.running ??= this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeFromBackoff?.();
    const client = this.client;
    if (client) await client.logout().catch(() => client.close());
    await this.running;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const startedAt = Date.now();
      let failure: ClassifiedError | undefined;
      try {
        failure = await this.session();
      } catch (err) {
        failure = classifyImapError(err);
      }
      if (this.stopped) break;
      if (failure?.errorClass === ErrorClass.Auth) {
        this.deps.logger.warn('authentication failed; not retrying until the credentials change', { accountId: this.deps.accountId });
        await this.report({ status: 'auth_error', lastError: failure.message, nextAttemptAt: null });
        break;
      }
      if (Date.now() - startedAt >= STABLE_CONNECTION_MS) this.failures = 0;
      this.failures += 1;
      const delay = reconnectDelayMs(this.failures, failure);
      this.deps.logger.info('connection ended; reconnecting after backoff', {
        accountId: this.deps.accountId,
        code: failure?.code,
        delayMs: delay,
        failures: this.failures,
      });
      await this.report({
        status: 'backoff',
        lastError: failure?.message ?? 'The connection closed',
        nextAttemptAt: new Date(Date.now() + delay).toISOString(),
      });
      await this.sleep(delay);
    }
  }

  /** One connection's life. Resolves with the reason it ended. */
  private async session(): Promise<ClassifiedError | undefined> {
    await this.report({ status: 'connecting' });
    const credentials = await this.deps.loadCredentials();
    if (!credentials) {
      this.stopped = true;
      return undefined;
    }
    let resolved;
    try {
      resolved = await resolveImapHost(this.deps.endpoint.host, this.deps.allowPrivateHosts);
    } catch (err) {
      if (err instanceof HostNotAllowedError || err instanceof HostNotFoundError) {
        return { errorClass: err instanceof HostNotAllowedError ? ErrorClass.Permanent : ErrorClass.Transient, code: err.code, message: err.message };
      }
      throw err;
    }
    if (this.stopped) return undefined;
    const client = createImapClient(this.deps.endpoint, resolved, { user: credentials.username, pass: credentials.password }, this.deps.timeouts);
    this.client = client;
    let lastError: unknown;
    // An unhandled 'error' event would crash the process; 'close' is what drives reconnection.
    client.on('error', (err: unknown) => {
      lastError = err;
    });
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    let recheck: NodeJS.Timeout | undefined;
    try {
      await client.connect();
      if (this.stopped) return undefined;
      const mailbox = await client.mailboxOpen('INBOX');
      const idle = client.capabilities.has('IDLE');
      client.on('exists', () => void this.requestSync(client));
      await this.report({ status: idle ? 'idle' : 'polling', lastError: null, nextAttemptAt: null });
      this.deps.logger.info(idle ? 'watching INBOX with IDLE' : 'watching INBOX by polling (server has no IDLE)', {
        accountId: this.deps.accountId,
        uidValidity: Number(mailbox.uidValidity),
      });
      await this.requestSync(client);
      recheck = setInterval(() => void this.requestSync(client), idle ? this.deps.recheckIntervalMs : this.deps.pollIntervalMs);
      await closed;
    } catch (err) {
      lastError = err;
    } finally {
      if (recheck) clearInterval(recheck);
      this.client = undefined;
      client.close();
    }
    if (this.stopped) return undefined;
    return lastError ? classifyImapError(lastError) : { errorClass: ErrorClass.Transient, code: 'connection_closed', message: 'The mail server closed the connection' };
  }

  /** Serializes syncs; an EXISTS during a sync schedules exactly one more. */
  private requestSync(client: ImapFlow): Promise<void> {
    if (this.syncing) {
      this.syncAgain = true;
      return this.syncing;
    }
    this.syncing = (async () => {
      do {
        this.syncAgain = false;
        await this.syncOnce(client);
      } while (this.syncAgain && !this.stopped && client.usable);
    })()
      .catch((err: unknown) => {
        // Whatever failed, the cursor did not move: a fresh connection will fetch it all again.
        this.deps.logger.warn('sync failed; reconnecting', { accountId: this.deps.accountId, err });
        client.close();
      })
      .finally(() => {
        this.syncing = undefined;
      });
    return this.syncing;
  }

  private async syncOnce(client: ImapFlow): Promise<void> {
    if (this.stopped || !client.usable || !client.mailbox) return;
    const uidValidity = Number(client.mailbox.uidValidity);
    const cursor = await this.deps.loadCursor();
    if (!cursor || cursor.uidValidity !== uidValidity) {
      // New UIDVALIDITY: old UIDs mean nothing now. Start at the top without notifying history.
      const top = await this.highestUid(client);
      this.deps.logger.info('starting the cursor at the top of INBOX', { accountId: this.deps.accountId, uidValidity, lastUid: top, previous: cursor?.uidValidity });
      await this.saveCursor({ uidValidity, lastUid: top });
      return;
    }
    if (client.mailbox.exists === 0) return;
    const messages: NewMessage[] = [];
    // `n:*` returns the last message even when nothing is above n: drop UIDs <= lastUid.
    for await (const msg of client.fetch(`${cursor.lastUid + 1}:*`, { uid: true, envelope: true, flags: true }, { uid: true })) {
      if (msg.uid > cursor.lastUid) messages.push(toNewMessage(uidValidity, msg));
    }
    if (messages.length === 0) return;
    messages.sort((a, b) => a.uid - b.uid);
    await this.deps.publish(messages);
    const last = messages[messages.length - 1];
    if (last) await this.saveCursor({ uidValidity, lastUid: last.uid });
  }

  private async highestUid(client: ImapFlow): Promise<number> {
    const mailbox = client.mailbox;
    if (!mailbox || mailbox.exists === 0) return Math.max(0, (mailbox ? mailbox.uidNext : 1) - 1);
    const last = await client.fetchOne('*', { uid: true });
    return last ? last.uid : Math.max(0, mailbox.uidNext - 1);
  }

  private async saveCursor(cursor: MailboxCursor): Promise<void> {
    const result = await this.deps.saveCursor(cursor);
    if (result === 'lease_lost') {
      this.deps.logger.warn('lease lost while advancing the cursor; letting the account go', { accountId: this.deps.accountId });
      this.stopped = true;
      this.client?.close();
      this.deps.onOwnershipLost();
    }
  }

  private async report(update: AccountStatusUpdate): Promise<void> {
    if (this.stopped && update.status !== 'auth_error') return;
    await this.deps.reportStatus(update).catch((err: unknown) => {
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

function toNewMessage(uidValidity: number, msg: FetchMessageObject): NewMessage {
  const from = msg.envelope?.from?.[0];
  return {
    uidValidity,
    uid: msg.uid,
    ...(from ? { from: { ...(from.name ? { name: from.name } : {}), ...(from.address ? { address: from.address } : {}) } } : {}),
    ...(msg.envelope?.subject ? { subject: msg.envelope.subject } : {}),
    ...(msg.envelope?.date ? { date: new Date(msg.envelope.date).toISOString() } : {}),
    seen: msg.flags?.has(SEEN) ?? false,
  };
}
