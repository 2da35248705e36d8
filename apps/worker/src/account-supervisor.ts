import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { APP_CONFIG, type AppConfig } from '@mailpush/config';
import {
  ConnectPacer,
  MailboxWatcher,
  imapEndpointPolicy,
  type ImapEndpointPolicy,
  type WatchSettings,
  type WatcherTelemetry,
} from '@mailpush/imap';
import { createLogger } from '@mailpush/logging';
import { metrics } from '@mailpush/metrics';
import { MailEventsProducer } from '@mailpush/queue';
import {
  AccountRepository,
  CursorRepository,
  LeaseRepository,
  REDIS,
  RedisKeys,
  type Account,
  type AccountStatus,
  type Lease,
  WorkerMembership,
} from '@mailpush/store';
import { CredentialHooks } from './credential-hooks';
import { FleetConnectPacer } from './fleet-connect-pacer';
import { toMailEvents } from './mail-events.mapper';
import { SlotOwnership, type ReleaseReason, type SlotHost } from './slot-ownership';

const log = createLogger('supervisor');
/** One logger and one set of counters for every watcher (each line names its account): not objects per mailbox. */
const watcherLog = createLogger('watcher');
const watcherTelemetry: WatcherTelemetry = {
  connected: (outcome) => metrics.imapConnects.inc({ outcome }),
  paced: (waitedMs) => metrics.imapConnectPacing.observe(waitedMs / 1000),
  reconnect: (error) => metrics.imapReconnects.inc({ class: error.errorClass, code: error.code }),
  probeFailed: () => metrics.imapProbeFailures.inc(),
  authFailed: () => metrics.imapAuthFailures.inc(),
};

/** Accounts no worker holds: the person has to act (new password) or chose to pause. */
const PARKED: ReadonlySet<AccountStatus> = new Set(['disabled', 'auth_error']);
/** Pre-slot accounts are moved to their slots this many at a time. */
const MIGRATION_BATCH = 200;
/** Retrying a Redis write while Redis is unreachable: from this, doubling, up to the max. */
const PERSIST_RETRY_MS = 100;
const PERSIST_RETRY_MAX_MS = 2_000;

interface Owned {
  lease: Lease;
  watcher: MailboxWatcher;
  status: AccountStatus;
  credentialsVersion: number;
}

/**
 * Runs the accounts of the slots this worker holds (SlotOwnership decides which): one
 * MailboxWatcher per active account; lets go of deleted, disabled and auth_error accounts, and of
 * accounts whose credentials changed (to reconnect with the new ones). While Redis is unreachable
 * it keeps every connection whose slot lease is provably valid by its own clock, and holds mail
 * it saw (enqueue, then cursor) until Redis answers again.
 */
@Injectable()
export class AccountSupervisor implements OnApplicationBootstrap, OnApplicationShutdown, SlotHost {
  private readonly owned = new Map<string, Owned>();
  /** `owned` counted by status, for the gauge. */
  private readonly statusCounts = new Map<AccountStatus, number>();
  /** Per account, the last queued reconcile/release: they run one after another. */
  private readonly queue = new Map<string, Promise<unknown>>();
  private readonly pacer: FleetConnectPacer;
  private readonly settings: WatchSettings;
  private readonly policy: ImapEndpointPolicy;
  private readonly ownership: SlotOwnership;
  private readonly control: Redis;
  private legacySubscriber: Redis | undefined;
  private stopping = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly accounts: AccountRepository,
    private readonly cursors: CursorRepository,
    private readonly events: MailEventsProducer,
    private readonly credentialHooks: CredentialHooks,
  ) {
    const imap = config.imap;
    this.pacer = new FleetConnectPacer(new ConnectPacer(imap.pacing), redis, imap.pacing.perHostFleet);
    this.policy = imapEndpointPolicy(config);
    this.settings = {
      timeouts: { connectTimeoutMs: imap.connectTimeoutMs, socketTimeoutMs: imap.socketTimeoutMs },
      reIdleMs: imap.reIdleMs,
      pollIntervalMs: imap.pollIntervalMs,
      liveness: { probeAfterMs: imap.probeAfterMs, probeTimeoutMs: imap.probeTimeoutMs },
      summaryThreshold: imap.catchUpSummaryThreshold,
      backoff: imap.reconnect,
    };
    // Heartbeats and renewals get a connection of their own: queued behind a takeover's thousands
    // of account reads they would arrive late, and a lease is proven from when its renewal was sent.
    this.control = redis.duplicate();
    this.control.on('error', (err: unknown) => log.warn('ownership connection error', { err }));
    this.ownership = new SlotOwnership(
      {
        workerId: config.workerId,
        leaseTtlMs: config.leaseTtlMs,
        leaseMarginMs: config.leaseMarginMs,
        reconcileMs: config.slotReconcileMs,
      },
      this.control,
      new LeaseRepository(this.control),
      accounts,
      new WorkerMembership(this.control),
      this,
      {
        takeover: () => metrics.leaseTakeovers.inc(),
        handover: () => metrics.leaseHandovers.inc(),
        slots: (n) => metrics.slotsHeld.set(n),
      },
    );
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.migrateLegacyAccounts();
    await this.ownership.start();
    log.info('worker started', { workerId: this.config.workerId, workers: this.ownership.liveMembers().length });
  }

  /** Hands every slot to the survivors: they re-rank on the announcement and take each slot as it is released. */
  async onApplicationShutdown(): Promise<void> {
    await this.ownership.stop();
    this.stopping = true;
    await Promise.all([...this.owned.keys()].map((id) => this.serial(id, () => this.stopWatching(id, false))));
    await this.legacySubscriber?.quit().catch(() => undefined);
    await this.control.quit().catch(() => this.control.disconnect());
  }

  /** How many accounts this worker holds (for health and tests). */
  ownedCount(): number {
    return this.owned.size;
  }

  /** Ready once the slots ranked to this worker at start are held (a rolling update waits for it). */
  ready(): boolean {
    return this.ownership.ready();
  }

  reconcile(accountId: string, lease: Lease): Promise<'exists' | 'gone'> {
    return this.serial(accountId, () => this.reconcileOne(accountId, lease));
  }

  release(accountId: string, reason: ReleaseReason): Promise<void> {
    return this.serial(accountId, () => this.stopWatching(accountId, reason === 'handover'));
  }

  private serial<T>(accountId: string, task: () => Promise<T>): Promise<T> {
    const previous = this.queue.get(accountId) ?? Promise.resolve();
    const run = previous.then(task, task);
    const settled = run.catch(() => undefined);
    this.queue.set(accountId, settled);
    void settled.then(() => {
      if (this.queue.get(accountId) === settled) this.queue.delete(accountId);
    });
    return run;
  }

  private async reconcileOne(accountId: string, lease: Lease): Promise<'exists' | 'gone'> {
    const account = await this.accounts.find(accountId);
    let owned = this.owned.get(accountId);
    if (!account) {
      if (owned) {
        log.info('account deleted; closing its connection', { accountId });
        await this.stopWatching(accountId);
      }
      return 'gone';
    }
    if (owned && owned.lease.holder !== lease.holder) {
      await this.stopWatching(accountId);
      owned = undefined;
    }
    if (owned) {
      if (account.status === 'disabled') {
        log.info('account disabled; closing its connection', { accountId });
        await this.stopWatching(accountId);
        return 'exists';
      }
      if (account.credentialsVersion === owned.credentialsVersion) return 'exists';
      log.info('credentials changed; reconnecting with the new ones', { accountId });
      await this.stopWatching(accountId);
    }
    if (PARKED.has(account.status) || this.stopping || !this.ownership.holds(lease)) return 'exists';
    const watcher = this.createWatcher(account, lease);
    this.owned.set(accountId, { lease, watcher, status: 'connecting', credentialsVersion: account.credentialsVersion });
    this.countStatus(undefined, 'connecting');
    watcher.start();
    log.info('took account', { accountId, slot: lease.slot, fence: lease.fence });
    return 'exists';
  }

  /**
   * `waiting`: the account stays active and another worker takes it (handover): say so instead of
   * leaving `idle` behind. Written before the slot's lease goes, so it cannot overwrite what the
   * next owner reports.
   */
  private async stopWatching(accountId: string, waiting = false): Promise<void> {
    const owned = this.owned.get(accountId);
    if (!owned) return;
    this.owned.delete(accountId);
    this.countStatus(owned.status, undefined);
    await owned.watcher.stop().catch((err: unknown) => log.warn('watcher stop failed', { accountId, err }));
    if (waiting) {
      await this.accounts
        .setStatus(accountId, { status: 'connecting', nextAttemptAt: null }, owned.credentialsVersion)
        .catch((err: unknown) => log.warn('could not record account status', { accountId, err }));
    }
  }

  /** Runs `fn` only while `lease` is still the one this worker watches the account under. */
  private whileHeld(accountId: string, lease: Lease, fn: () => void): void {
    if (this.owned.get(accountId)?.lease === lease) fn();
  }

  /**
   * A Redis write the watcher's progress depends on (enqueue, cursor): retried while Redis is
   * unreachable, for as long as the slot's lease is provably this worker's. The connection stays
   * up meanwhile; nothing the watcher saw is dropped, and the cursor moves only after the enqueue.
   */
  private async persist<T>(lease: Lease, fn: () => Promise<T>): Promise<T> {
    let delay = PERSIST_RETRY_MS;
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (this.stopping || !this.ownership.holds(lease)) throw err;
        if (attempt === 1)
          log.warn('redis unavailable; holding the mail until it answers', { accountId: lease.accountId, err });
        await new Promise((resolve) => setTimeout(resolve, delay).unref());
        delay = Math.min(delay * 2, PERSIST_RETRY_MAX_MS);
      }
    }
  }

  /**
   * One account moves from `from` to `to` in the by-status gauge (undefined: not held). O(1): a
   * recount per change made a cold start of N accounts cost O(N²). A status no account has is
   * left out of the gauge, not shown as 0.
   */
  private countStatus(from: AccountStatus | undefined, to: AccountStatus | undefined): void {
    if (from === to) return;
    if (from !== undefined) {
      const n = (this.statusCounts.get(from) ?? 0) - 1;
      if (n > 0) {
        this.statusCounts.set(from, n);
        metrics.accountsByStatus.set({ status: from }, n);
      } else {
        this.statusCounts.delete(from);
        metrics.accountsByStatus.remove({ status: from });
      }
    }
    if (to !== undefined) {
      const n = (this.statusCounts.get(to) ?? 0) + 1;
      this.statusCounts.set(to, n);
      metrics.accountsByStatus.set({ status: to }, n);
    }
  }

  /**
   * Accounts stored before slots get their slot (cursor kept) once, by whichever worker starts
   * first; accounts an api of the previous version creates during a rolling update are moved as
   * it announces them.
   */
  private async migrateLegacyAccounts(): Promise<void> {
    const subscriber = this.redis.duplicate();
    this.legacySubscriber = subscriber;
    subscriber.on('error', (err: unknown) => log.warn('legacy channel connection error', { err }));
    subscriber.on('message', (_channel: string, accountId: string) => {
      void this.accounts.migrateToSlot(accountId).catch((err: unknown) => log.warn('migration failed', { err }));
    });
    await subscriber.subscribe(RedisKeys.accountsChannel());
    if (await this.redis.get(RedisKeys.slotMigration())) return;
    const ids = await this.accounts.allIds();
    let moved = 0;
    for (let i = 0; i < ids.length; i += MIGRATION_BATCH) {
      const outcomes = await Promise.all(
        ids.slice(i, i + MIGRATION_BATCH).map((id) => this.accounts.migrateToSlot(id)),
      );
      moved += outcomes.filter((o) => o === 'moved').length;
    }
    await this.redis.set(RedisKeys.slotMigration(), new Date().toISOString());
    log.info('accounts assigned to slots', { accounts: ids.length, moved });
  }

  private createWatcher(account: Account, lease: Lease): MailboxWatcher {
    return new MailboxWatcher({
      accountId: account.id,
      endpoint: account.imap,
      policy: this.policy,
      settings: this.settings,
      notifySeen: account.options.notifySeen,
      pacer: this.pacer,
      logger: watcherLog,
      telemetry: watcherTelemetry,
      loadCredentials: () => this.accounts.credentials(account.id),
      loadCursor: () => this.persist(lease, () => this.cursors.get(account.id)),
      saveCursor: (cursor) => this.persist(lease, () => this.cursors.advance(lease, cursor)),
      reserveSummary: (summary) => this.persist(lease, () => this.cursors.reserveSummary(lease, summary)),
      publish: async (mail) => {
        const events = toMailEvents(account, mail);
        await this.persist(lease, () => this.events.enqueue(events));
        metrics.mailEvents.inc({ kind: mail.kind === 'summary' ? 'summary' : 'message' }, events.length);
        await this.accounts
          .touchLastEvent(account.id)
          .catch((err: unknown) => log.warn('could not record the last event time', { accountId: account.id, err }));
        log.info(mail.kind === 'summary' ? 'catch-up summary enqueued' : 'new mail enqueued', {
          accountId: account.id,
          count: mail.kind === 'summary' ? mail.summary.count : events.length,
        });
      },
      reportStatus: async (update, credentialsVersion) => {
        this.whileHeld(account.id, lease, () => {
          const owned = this.owned.get(account.id);
          if (!owned) return;
          this.countStatus(owned.status, update.status);
          owned.status = update.status;
        });
        await this.accounts.setStatus(account.id, update, credentialsVersion);
      },
      // OAuth2 token source and the Reconnect announcement (issue 7): see credential-hooks.ts.
      ...this.credentialHooks.for(account),
      onAuthError: () =>
        this.whileHeld(account.id, lease, () => void this.serial(account.id, () => this.stopWatching(account.id))),
      onOwnershipLost: () =>
        this.whileHeld(account.id, lease, () => {
          void this.serial(account.id, () => this.stopWatching(account.id));
          // The slot moved under us: find out now rather than at the next renewal.
          this.ownership.renewSoon();
        }),
    });
  }
}
