import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { APP_CONFIG, type AppConfig } from '../../../libs/config';
import { ConnectPacer, MailboxWatcher, imapEndpointPolicy, type WatchSettings } from '../../../libs/imap';
import { createLogger } from '../../../libs/logging';
import { metrics } from '../../../libs/metrics';
import { MailEventsProducer } from '../../../libs/queue';
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
} from '../../../libs/store';
import { rankedOwner } from './account-ranking';
import { toMailEvents } from './mail-events.mapper';

const log = createLogger('supervisor');

/** Full rescan of the account set: catches anything a missed pub/sub message would have told us. */
const RESCAN_INTERVAL_MS = 5_000;

/** Accounts no worker holds: the person has to act (new password) or chose to pause. */
const PARKED: ReadonlySet<AccountStatus> = new Set(['disabled', 'auth_error']);

interface Owned {
  lease: Lease;
  watcher: MailboxWatcher;
  status: AccountStatus;
  credentialsVersion: number;
}

/**
 * Decides which accounts this worker watches: takes the lease of every unowned active account,
 * renews what it holds, and lets go of deleted, disabled and auth_error accounts, of accounts
 * whose credentials changed (to reconnect with the new ones) and of leases it lost.
 */
@Injectable()
export class AccountSupervisor implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly owned = new Map<string, Owned>();
  private readonly inFlight = new Set<string>();
  /** Accounts told about while a reconcile of them was running: looked at again afterwards. */
  private readonly again = new Set<string>();
  private readonly pacer: ConnectPacer;
  private readonly settings: WatchSettings;
  /** Live workers (this one included), refreshed with every heartbeat. */
  private members: string[];
  /** When an account that ranks to another worker was first seen with no lease at all. */
  private readonly orphanedSince = new Map<string, number>();
  private subscriber: Redis | undefined;
  private timers: NodeJS.Timeout[] = [];
  private stopping = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly accounts: AccountRepository,
    private readonly cursors: CursorRepository,
    private readonly leases: LeaseRepository,
    private readonly events: MailEventsProducer,
    private readonly membership: WorkerMembership,
  ) {
    this.members = [config.workerId];
    const imap = config.imap;
    this.pacer = new ConnectPacer(imap.pacing);
    this.settings = {
      timeouts: { connectTimeoutMs: imap.connectTimeoutMs, socketTimeoutMs: imap.socketTimeoutMs },
      reIdleMs: imap.reIdleMs,
      pollIntervalMs: imap.pollIntervalMs,
      liveness: { probeAfterMs: imap.probeAfterMs, probeTimeoutMs: imap.probeTimeoutMs },
      summaryThreshold: imap.catchUpSummaryThreshold,
      backoff: imap.reconnect,
    };
  }

  async onApplicationBootstrap(): Promise<void> {
    this.subscriber = this.redis.duplicate();
    this.subscriber.on('message', (_channel: string, accountId: string) => void this.reconcile(accountId));
    await this.subscriber.subscribe(RedisKeys.accountsChannel());
    this.members = await this.membership.heartbeat(this.config.workerId, this.config.leaseTtlMs);
    this.timers.push(
      setInterval(() => void this.reconcileAll(), RESCAN_INTERVAL_MS),
      setInterval(() => void this.heartbeatAndRenew(), Math.max(1000, Math.floor(this.config.leaseTtlMs / 3))),
    );
    await this.reconcileAll();
    log.info('worker started', { workerId: this.config.workerId, accounts: this.owned.size });
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    for (const t of this.timers) clearInterval(t);
    await this.membership.leave(this.config.workerId).catch(() => undefined);
    const held = [...this.owned.keys()];
    await Promise.all(held.map((id) => this.release(id, true, true)));
    // Tell the other workers at once, so the accounts' new owners connect now rather than at their next scan.
    await Promise.all(held.map((id) => this.redis.publish(RedisKeys.accountsChannel(), id).catch(() => 0)));
    await this.subscriber?.quit().catch(() => undefined);
  }

  /** How many accounts this worker holds (for health and tests). */
  ownedCount(): number {
    return this.owned.size;
  }

  private async reconcileAll(): Promise<void> {
    try {
      const ids = await this.accounts.allIds();
      const live = new Set(ids);
      for (const id of this.owned.keys()) if (!live.has(id)) void this.reconcile(id);
      for (const id of this.orphanedSince.keys()) if (!live.has(id)) this.orphanedSince.delete(id);
      for (const id of ids) if (!this.owned.has(id) || !this.ranksHere(id)) void this.reconcile(id);
    } catch (err) {
      log.warn('account scan failed', { err });
    }
  }

  private async reconcile(accountId: string): Promise<void> {
    if (this.stopping) return;
    if (this.inFlight.has(accountId)) {
      this.again.add(accountId);
      return;
    }
    this.inFlight.add(accountId);
    try {
      await this.reconcileOne(accountId);
    } catch (err) {
      log.warn('could not reconcile account', { accountId, err });
    } finally {
      this.inFlight.delete(accountId);
    }
    if (this.again.delete(accountId)) void this.reconcile(accountId);
  }

  private async reconcileOne(accountId: string): Promise<void> {
    const owned = this.owned.get(accountId);
    const mine = this.ranksHere(accountId);
    // Every rescan visits every account: one ranked to another worker costs an EXISTS, not a read.
    if (!owned && !mine && !(await this.orphaned(accountId))) return;
    const account = await this.accounts.find(accountId);
    if (!account) {
      if (owned) {
        log.info('account deleted; closing its connection', { accountId });
        await this.release(accountId);
      }
      return;
    }
    if (owned) {
      if (account.status === 'disabled') {
        log.info('account disabled; closing its connection', { accountId });
        await this.release(accountId);
        return;
      }
      if (account.credentialsVersion !== owned.credentialsVersion) {
        log.info('credentials changed; reconnecting with the new ones', { accountId });
        await this.release(accountId);
      }
    }
    if (PARKED.has(account.status)) return;
    const stillOwned = this.owned.has(accountId);
    if (stillOwned && !mine) {
      log.info('handing the account over to the worker it ranks to', {
        accountId,
        to: rankedOwner(accountId, this.members),
      });
      await this.release(accountId, true, true);
      await this.redis.publish(RedisKeys.accountsChannel(), accountId);
      return;
    }
    if (stillOwned) return;
    // Let go for new credentials while ranked elsewhere: its ranked owner takes it from here.
    if (owned && !mine) return;
    const lease = await this.leases.acquire(accountId, this.config.workerId, this.config.leaseTtlMs);
    if (!lease || this.stopping) {
      if (lease) await this.leases.release(lease);
      return;
    }
    const watcher = this.createWatcher(account, lease);
    this.owned.set(accountId, { lease, watcher, status: 'connecting', credentialsVersion: account.credentialsVersion });
    this.updateStatusGauge();
    watcher.start();
    log.info('took account', { accountId, fence: lease.fence });
  }

  private ranksHere(accountId: string): boolean {
    return rankedOwner(accountId, this.members) === this.config.workerId;
  }

  /**
   * An account that ranks to another worker but has had no lease for two TTLs: its owner is
   * alive by heartbeat yet not connecting it (stuck, or an old version). Take it rather than
   * leave the mailbox unwatched.
   */
  private async orphaned(accountId: string): Promise<boolean> {
    if (await this.leases.isHeld(accountId)) {
      this.orphanedSince.delete(accountId);
      return false;
    }
    const now = Date.now();
    const since = this.orphanedSince.get(accountId) ?? now;
    this.orphanedSince.set(accountId, since);
    return now - since >= 2 * this.config.leaseTtlMs;
  }

  private async heartbeatAndRenew(): Promise<void> {
    try {
      const members = await this.membership.heartbeat(this.config.workerId, this.config.leaseTtlMs);
      const changed = members.join(',') !== this.members.join(',');
      this.members = members;
      if (changed) {
        log.info('worker membership changed; re-ranking accounts', { workers: members.length });
        void this.reconcileAll();
      }
    } catch (err) {
      log.warn('heartbeat failed', { err });
    }
    await this.renewAll();
  }

  private async renewAll(): Promise<void> {
    await Promise.all(
      [...this.owned.entries()].map(async ([accountId, { lease }]) => {
        const renewed = await this.leases.renew(lease, this.config.leaseTtlMs).catch(() => false);
        if (!renewed && this.owned.get(accountId)?.lease === lease) {
          log.warn('lease lost; closing the connection', { accountId });
          await this.release(accountId, false);
        }
      }),
    );
  }

  /**
   * `waiting`: the account stays active and another worker will take it (shutdown): say so
   * instead of leaving `idle` behind. Written before the lease goes, so it cannot overwrite what
   * the next owner reports.
   */
  private async release(accountId: string, releaseLease = true, waiting = false): Promise<void> {
    const owned = this.owned.get(accountId);
    if (!owned) return;
    this.owned.delete(accountId);
    this.updateStatusGauge();
    await owned.watcher.stop().catch((err: unknown) => log.warn('watcher stop failed', { accountId, err }));
    if (waiting) {
      await this.accounts
        .setStatus(accountId, { status: 'connecting', nextAttemptAt: null }, owned.credentialsVersion)
        .catch((err: unknown) => log.warn('could not record account status', { accountId, err }));
    }
    if (releaseLease) await this.leases.release(owned.lease).catch(() => undefined);
  }

  /** Runs `fn` only while `lease` is still the one this worker holds for the account. */
  private whileHeld(accountId: string, lease: Lease, fn: () => void): void {
    if (this.owned.get(accountId)?.lease === lease) fn();
  }

  private updateStatusGauge(): void {
    const counts = new Map<AccountStatus, number>();
    for (const { status } of this.owned.values()) counts.set(status, (counts.get(status) ?? 0) + 1);
    metrics.accountsByStatus.reset();
    for (const [status, n] of counts) metrics.accountsByStatus.set({ status }, n);
  }

  private createWatcher(account: Account, lease: Lease): MailboxWatcher {
    return new MailboxWatcher({
      accountId: account.id,
      endpoint: account.imap,
      policy: imapEndpointPolicy(this.config),
      settings: this.settings,
      notifySeen: account.options.notifySeen,
      pacer: this.pacer,
      logger: createLogger('watcher'),
      telemetry: {
        connected: (outcome) => metrics.imapConnects.inc({ outcome }),
        paced: (waitedMs) => metrics.imapConnectPacing.observe(waitedMs / 1000),
        reconnect: (error) => metrics.imapReconnects.inc({ class: error.errorClass, code: error.code }),
        probeFailed: () => metrics.imapProbeFailures.inc(),
        authFailed: () => metrics.imapAuthFailures.inc(),
      },
      loadCredentials: () => this.accounts.credentials(account.id),
      loadCursor: () => this.cursors.get(account.id),
      saveCursor: (cursor) => this.cursors.advance(lease, cursor),
      reserveSummary: (summary) => this.cursors.reserveSummary(lease, summary),
      publish: async (mail) => {
        const events = toMailEvents(account, mail);
        await this.events.enqueue(events);
        metrics.mailEvents.inc({ kind: mail.kind === 'summary' ? 'summary' : 'message' }, events.length);
        await this.accounts.touchLastEvent(account.id);
        log.info(mail.kind === 'summary' ? 'catch-up summary enqueued' : 'new mail enqueued', {
          accountId: account.id,
          count: mail.kind === 'summary' ? mail.summary.count : events.length,
        });
      },
      reportStatus: async (update, credentialsVersion) => {
        this.whileHeld(account.id, lease, () => {
          const owned = this.owned.get(account.id);
          if (owned) owned.status = update.status;
          this.updateStatusGauge();
        });
        await this.accounts.setStatus(account.id, update, credentialsVersion);
      },
      onAuthError: () => this.whileHeld(account.id, lease, () => void this.release(account.id)),
      onOwnershipLost: () => this.whileHeld(account.id, lease, () => void this.release(account.id, false)),
    });
  }
}
