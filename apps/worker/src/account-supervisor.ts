import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { APP_CONFIG, type AppConfig } from '../../../libs/config';
import { MailboxWatcher, type NewMessage } from '../../../libs/imap';
import { createLogger } from '../../../libs/logging';
import { metrics } from '../../../libs/metrics';
import { MailEventsProducer, messageKey, type MailEvent } from '../../../libs/queue';
import {
  AccountRepository,
  CursorRepository,
  LeaseRepository,
  REDIS,
  RedisKeys,
  type Account,
  type AccountStatus,
  type Lease,
} from '../../../libs/store';

const log = createLogger('supervisor');

/** Full rescan of the account set: catches anything a missed pub/sub message would have told us. */
const RESCAN_INTERVAL_MS = 5_000;
/** Re-check above the cursor while in IDLE: IDLE notifications can be lost (seen with Dovecot hibernation). */
const RECHECK_INTERVAL_MS = 5 * 60_000;
/** Servers without IDLE are polled: frequent enough to feel like push, cheap enough for providers. */
const POLL_INTERVAL_MS = 60_000;

interface Owned {
  lease: Lease;
  watcher: MailboxWatcher;
  status: AccountStatus;
}

/**
 * Decides which accounts this worker watches: takes the lease of every unowned account, renews
 * what it holds, and lets go of deleted accounts and of leases it lost.
 */
@Injectable()
export class AccountSupervisor implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly owned = new Map<string, Owned>();
  private readonly inFlight = new Set<string>();
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
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.subscriber = this.redis.duplicate();
    this.subscriber.on('message', (_channel: string, accountId: string) => void this.reconcile(accountId));
    await this.subscriber.subscribe(RedisKeys.accountsChannel());
    this.timers.push(
      setInterval(() => void this.reconcileAll(), RESCAN_INTERVAL_MS),
      setInterval(() => void this.renewAll(), Math.max(1000, Math.floor(this.config.leaseTtlMs / 3))),
    );
    await this.reconcileAll();
    log.info('worker started', { workerId: this.config.workerId, accounts: this.owned.size });
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    for (const t of this.timers) clearInterval(t);
    await Promise.all([...this.owned.keys()].map((id) => this.release(id)));
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
      for (const id of ids) if (!this.owned.has(id)) void this.reconcile(id);
    } catch (err) {
      log.warn('account scan failed', { err });
    }
  }

  private async reconcile(accountId: string): Promise<void> {
    if (this.stopping || this.inFlight.has(accountId)) return;
    this.inFlight.add(accountId);
    try {
      const account = await this.accounts.find(accountId);
      if (!account) {
        if (this.owned.has(accountId)) {
          log.info('account deleted; closing its connection', { accountId });
          await this.release(accountId);
        }
        return;
      }
      if (this.owned.has(accountId) || account.status === 'disabled') return;
      const lease = await this.leases.acquire(accountId, this.config.workerId, this.config.leaseTtlMs);
      if (!lease || this.stopping) {
        if (lease) await this.leases.release(lease);
        return;
      }
      const watcher = this.createWatcher(account, lease);
      this.owned.set(accountId, { lease, watcher, status: 'connecting' });
      this.updateStatusGauge();
      watcher.start();
      log.info('took account', { accountId, fence: lease.fence });
    } catch (err) {
      log.warn('could not reconcile account', { accountId, err });
    } finally {
      this.inFlight.delete(accountId);
    }
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

  private async release(accountId: string, releaseLease = true): Promise<void> {
    const owned = this.owned.get(accountId);
    if (!owned) return;
    this.owned.delete(accountId);
    this.updateStatusGauge();
    await owned.watcher.stop().catch((err: unknown) => log.warn('watcher stop failed', { accountId, err }));
    if (releaseLease) await this.leases.release(owned.lease).catch(() => undefined);
  }

  private updateStatusGauge(): void {
    const counts = new Map<AccountStatus, number>();
    for (const { status } of this.owned.values()) counts.set(status, (counts.get(status) ?? 0) + 1);
    metrics.accountsByStatus.reset();
    for (const [status, n] of counts) metrics.accountsByStatus.set({ status }, n);
  }

  private createWatcher(account: Account, lease: Lease): MailboxWatcher {
    const toEvent = (m: NewMessage): MailEvent => ({
      accountId: account.id,
      userId: account.userId,
      uidValidity: m.uidValidity,
      uid: m.uid,
      messageKey: messageKey(account.id, m.uidValidity, m.uid),
      ...(m.from ? { from: m.from } : {}),
      ...(m.subject !== undefined ? { subject: m.subject } : {}),
      ...(m.date ? { date: m.date } : {}),
      detectedAt: Date.now(),
    });
    return new MailboxWatcher({
      accountId: account.id,
      endpoint: account.imap,
      allowPrivateHosts: this.config.allowPrivateHosts,
      timeouts: this.config.imap,
      recheckIntervalMs: RECHECK_INTERVAL_MS,
      pollIntervalMs: POLL_INTERVAL_MS,
      logger: createLogger('watcher'),
      loadCredentials: () => this.accounts.credentials(account.id),
      loadCursor: () => this.cursors.get(account.id),
      saveCursor: (cursor) => this.cursors.advance(lease, cursor),
      publish: async (messages) => {
        await this.events.enqueue(messages.map(toEvent));
        metrics.mailEvents.inc({ kind: 'message' }, messages.length);
        await this.accounts.touchLastEvent(account.id);
        log.info('new mail enqueued', { accountId: account.id, count: messages.length });
      },
      reportStatus: async (update) => {
        const owned = this.owned.get(account.id);
        if (owned && owned.lease === lease) {
          owned.status = update.status;
          this.updateStatusGauge();
        }
        await this.accounts.setStatus(account.id, update);
      },
      onOwnershipLost: () => void this.release(account.id, false),
    });
  }
}
