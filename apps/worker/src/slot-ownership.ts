import type { Redis } from 'ioredis';
import { createLogger } from '@mailpush/logging';
import {
  decodeAnnouncement,
  RedisKeys,
  type AccountRepository,
  type Lease,
  type LeaseRepository,
  type SlotLease,
  type WorkerMembership,
} from '@mailpush/store';
import { slotsRankedTo } from './account-ranking';

const log = createLogger('ownership');

export interface OwnershipSettings {
  workerId: string;
  leaseTtlMs: number;
  /** Connections stop this long before a lease would run out unrenewed. */
  leaseMarginMs: number;
  /** Safety-net re-read of the held slots (versions first, sets only where a version moved). */
  reconcileMs: number;
}

/** Why an account stops being watched here. */
export type ReleaseReason = 'handover' | 'expired' | 'lost' | 'removed';

/** What runs the accounts of the slots this worker holds (the IMAP watchers, or a bench's stand-in). */
export interface SlotHost {
  /**
   * The account is in a slot held under `lease`: make its watching match its record (start, keep,
   * restart for new credentials, stop for disabled). Resolves `gone` when the account no longer
   * exists.
   */
  reconcile(accountId: string, lease: Lease): Promise<'exists' | 'gone'>;
  /** Stop watching the account (its slot moved, its lease can no longer be proven, it was deleted). */
  release(accountId: string, reason: ReleaseReason): Promise<void>;
}

export interface OwnershipTelemetry {
  takeover?(): void;
  handover?(): void;
  slots?(held: number): void;
}

interface HeldSlot {
  lease: SlotLease;
  /** Local clock: until then the lease is provably ours (renewal sent + TTL - margin). */
  validUntil: number;
  accounts: Set<string>;
  /** Last slot version this worker read or was told. */
  version: number;
  releasing: boolean;
}

/** Heartbeats between lease renewals: a dead worker is noticed well before its leases run out. */
const HEARTBEATS_PER_TTL = 10;
const MIN_HEARTBEAT_MS = 100;
const MAX_HEARTBEAT_MS = 3_000;
/** A failed renewal is retried this often until it succeeds or the lease can no longer be proven. */
const RENEW_RETRY_MS = 500;
/** How often held leases are checked against the clock. */
const VALIDITY_CHECK_MS = 200;
/** After a lease's announced expiry, try again a moment later (server and local clocks differ a little). */
const ACQUIRE_SLACK_MS = 50;
/** Retry after a failed acquisition attempt (Redis unreachable). */
const ACQUIRE_RETRY_MS = 1_000;
/** Accounts of one slot reconciled at once (a fresh worker takes thousands). */
const RECONCILE_BATCH = 64;
/**
 * Slots being taken at once. Bounded so that each acquisition's round trip stays short: a lease
 * is proven from when its request was sent, and 4,096 requests queued at once would arrive with
 * their validity already spent.
 */
const ACQUIRE_IN_FLIGHT = 32;

/**
 * Slot ownership for one worker: heartbeats into the membership set, ranks the 4,096 slots over
 * the live workers (rendezvous), takes the lease of each slot ranked to it, renews them all in one
 * call, reads its slots' account sets and hands each account to the host. Hears on pub/sub about
 * joins, leaves and released slots (and acts at once), and about account changes in its slots.
 *
 * Steady state costs a heartbeat every ~TTL/10, one renewal call per TTL/3 and one GET per held
 * slot per reconcile interval: nothing grows with the number of accounts or with mail.
 */
export class SlotOwnership {
  private members: string[] = [];
  private desired = new Set<number>();
  private readonly held = new Map<number, HeldSlot>();
  private readonly acquiring = new Set<number>();
  /** Slots announced released while this worker's attempt at them was in flight. */
  private readonly releasedMeanwhile = new Set<number>();
  /** Slots waiting for a free acquisition place, in order. */
  private readonly toAcquire = new Set<number>();
  private readonly retryTimers = new Map<number, NodeJS.Timeout>();
  private readonly loading = new Map<number, Promise<void>>();
  private readonly reloadAgain = new Set<number>();
  private subscriber: Redis | undefined;
  private timers: NodeJS.Timeout[] = [];
  private renewTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private reconciling = false;
  private startedAt = 0;
  private takenOver = false;
  private readonly heartbeatMs: number;

  constructor(
    private readonly settings: OwnershipSettings,
    private readonly redis: Redis,
    private readonly leases: LeaseRepository,
    private readonly accounts: AccountRepository,
    private readonly membership: WorkerMembership,
    private readonly host: SlotHost,
    private readonly telemetry: OwnershipTelemetry = {},
    /** Monotonic: a wall-clock step must not stretch or shrink a lease. */
    private readonly now: () => number = () => performance.now(),
  ) {
    this.heartbeatMs = Math.min(
      MAX_HEARTBEAT_MS,
      Math.max(MIN_HEARTBEAT_MS, Math.floor(settings.leaseTtlMs / HEARTBEATS_PER_TTL)),
    );
  }

  async start(): Promise<void> {
    this.startedAt = this.now();
    const subscriber = this.redis.duplicate();
    this.subscriber = subscriber;
    subscriber.on('error', (err: unknown) => log.warn('ownership subscriber connection error', { err }));
    subscriber.on('message', (channel: string, message: string) => this.onMessage(channel, message));
    await subscriber.subscribe(RedisKeys.workersChannel());
    this.members = await this.membership.heartbeat(this.settings.workerId, this.settings.leaseTtlMs);
    await this.membership.announce({ kind: 'join', workerId: this.settings.workerId });
    // Workers starting together (a fresh fleet) see each other after a heartbeat: ranking before
    // that would take every slot only to hand most of them over again.
    await new Promise((resolve) => setTimeout(resolve, this.heartbeatMs));
    this.members = await this.membership.heartbeat(this.settings.workerId, this.settings.leaseTtlMs);
    this.timers.push(
      setInterval(() => void this.heartbeat(), this.heartbeatMs),
      setInterval(() => this.checkValidity(), VALIDITY_CHECK_MS),
      setInterval(() => void this.reconcileHeld(), this.settings.reconcileMs),
    );
    this.scheduleRenewal(Math.floor(this.settings.leaseTtlMs / 3));
    this.rebalance();
  }

  /**
   * Leaves: announces it (the others re-rank now), then per slot stops its accounts, releases the
   * lease and announces the release (its new owner takes it at once).
   */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    for (const t of this.timers) clearInterval(t);
    if (this.renewTimer) clearTimeout(this.renewTimer);
    for (const t of this.retryTimers.values()) clearTimeout(t);
    this.retryTimers.clear();
    this.toAcquire.clear();
    await this.membership.leave(this.settings.workerId).catch((err: unknown) => log.warn('could not leave', { err }));
    await Promise.all([...this.held.keys()].map((slot) => this.handOver(slot)));
    await this.subscriber?.quit().catch(() => this.subscriber?.disconnect());
  }

  /**
   * Stops every timer and the subscriber without a word to Redis or the host: what a crashed
   * process looks like to the rest of the fleet (simulations and specs).
   */
  halt(): void {
    this.stopping = true;
    for (const t of this.timers) clearInterval(t);
    if (this.renewTimer) clearTimeout(this.renewTimer);
    for (const t of this.retryTimers.values()) clearTimeout(t);
    this.retryTimers.clear();
    this.held.clear();
    this.subscriber?.disconnect();
  }

  /** True once every slot ranked to this worker at start has been taken (or two TTLs have passed). */
  ready(): boolean {
    return this.takenOver || this.now() - this.startedAt > 2 * this.settings.leaseTtlMs;
  }

  heldSlots(): number[] {
    return [...this.held.keys()];
  }

  liveMembers(): readonly string[] {
    return this.members;
  }

  /** Renews (and so checks) every lease now: a cursor write said one of them moved. */
  renewSoon(): void {
    this.scheduleRenewal(0);
  }

  /** Whether `lease` is still this worker's and provably valid by its own clock. */
  holds(lease: SlotLease): boolean {
    const h = this.held.get(lease.slot);
    return h !== undefined && h.lease.holder === lease.holder && !h.releasing && h.validUntil > this.now();
  }

  private onMessage(channel: string, message: string): void {
    if (this.stopping) return;
    if (channel === RedisKeys.workersChannel()) {
      const a = decodeAnnouncement(message);
      if (!a) return;
      if (a.kind === 'release') {
        if (this.acquiring.has(a.slot)) this.releasedMeanwhile.add(a.slot);
        else if (this.desired.has(a.slot) && !this.held.has(a.slot)) this.requestAcquire(a.slot);
      } else if (a.workerId !== this.settings.workerId) {
        void this.heartbeat();
      }
      return;
    }
    const slot = Number(channel.slice(channel.lastIndexOf(':') + 1));
    const h = this.held.get(slot);
    const sep = message.indexOf(':');
    const version = Number(message.slice(0, sep));
    const accountId = message.slice(sep + 1);
    if (!h || h.releasing || !accountId) return;
    // A gap in the versions means a message was missed: re-read the whole slot.
    if (version > h.version + 1) void this.loadSlot(slot, true);
    h.version = Math.max(h.version, version);
    void this.reconcileAccount(slot, accountId);
  }

  private async heartbeat(): Promise<void> {
    if (this.stopping) return;
    try {
      const members = await this.membership.heartbeat(this.settings.workerId, this.settings.leaseTtlMs);
      if (this.stopping) return;
      if (members.join(',') !== this.members.join(',')) {
        log.info('worker membership changed; re-ranking slots', { workers: members.length });
        this.members = members;
        this.rebalance();
      }
    } catch (err) {
      // Keep the last known members: a Redis outage must not move anything.
      log.warn('heartbeat failed', { err });
    }
  }

  private rebalance(): void {
    if (this.stopping) return;
    this.desired = slotsRankedTo(this.settings.workerId, this.members);
    for (const slot of this.held.keys()) if (!this.desired.has(slot)) void this.handOver(slot);
    for (const slot of this.desired) if (!this.held.has(slot)) this.requestAcquire(slot);
    this.checkTakenOver();
  }

  private checkTakenOver(): void {
    if (this.takenOver) return;
    for (const slot of this.desired) if (!this.held.has(slot)) return;
    this.takenOver = true;
    log.info('initial takeover complete', { slots: this.held.size });
  }

  private requestAcquire(slot: number): void {
    if (this.stopping || this.acquiring.has(slot) || this.held.has(slot)) return;
    const timer = this.retryTimers.get(slot);
    if (timer) clearTimeout(timer);
    this.retryTimers.delete(slot);
    this.toAcquire.add(slot);
    this.pumpAcquire();
  }

  private pumpAcquire(): void {
    for (const slot of this.toAcquire) {
      if (this.acquiring.size >= ACQUIRE_IN_FLIGHT) return;
      this.toAcquire.delete(slot);
      if (this.desired.has(slot) && !this.held.has(slot) && !this.acquiring.has(slot)) {
        void this.acquire(slot).finally(() => this.pumpAcquire());
      }
    }
  }

  private async acquire(slot: number): Promise<void> {
    if (this.stopping || this.acquiring.has(slot) || this.held.has(slot)) return;
    this.acquiring.add(slot);
    this.releasedMeanwhile.delete(slot);
    try {
      const sent = this.now();
      const got = await this.leases.acquireSlot(slot, this.settings.workerId, this.settings.leaseTtlMs);
      if (!got.acquired) {
        // Held by another (handing it over, or dead and expiring): try when its lease runs out;
        // a release announcement brings that forward.
        this.retryLater(slot, this.releasedMeanwhile.delete(slot) ? 0 : got.ttlMs + ACQUIRE_SLACK_MS);
        return;
      }
      if (this.stopping || !this.desired.has(slot)) {
        await this.leases.releaseSlot(got.lease);
        return;
      }
      this.held.set(slot, {
        lease: got.lease,
        validUntil: sent + this.settings.leaseTtlMs - this.settings.leaseMarginMs,
        accounts: new Set(),
        version: 0,
        releasing: false,
      });
      this.telemetry.takeover?.();
      this.telemetry.slots?.(this.held.size);
      await this.subscriber?.subscribe(RedisKeys.slotChannel(slot));
      await this.loadSlot(slot, false);
      this.checkTakenOver();
    } catch (err) {
      if (this.stopping) return;
      log.warn('could not take slot', { slot, err });
      this.retryLater(slot, ACQUIRE_RETRY_MS);
    } finally {
      this.acquiring.delete(slot);
    }
  }

  private retryLater(slot: number, ms: number): void {
    if (this.stopping || this.retryTimers.has(slot)) return;
    this.retryTimers.set(
      slot,
      setTimeout(() => {
        this.retryTimers.delete(slot);
        if (this.desired.has(slot) && !this.held.has(slot)) this.requestAcquire(slot);
      }, ms).unref(),
    );
  }

  /** Reads the slot's account set and reconciles it with what is watched; `full` re-checks every account. */
  private async loadSlot(slot: number, full: boolean): Promise<void> {
    const running = this.loading.get(slot);
    if (running) {
      if (full) this.reloadAgain.add(slot);
      return running;
    }
    const task = this.readSlot(slot, full).finally(() => {
      this.loading.delete(slot);
      if (this.reloadAgain.delete(slot)) void this.loadSlot(slot, true);
    });
    this.loading.set(slot, task);
    return task;
  }

  private async readSlot(slot: number, full: boolean): Promise<void> {
    const h = this.held.get(slot);
    if (!h || h.releasing) return;
    try {
      const version = Number((await this.accounts.slotVersion(slot)) ?? 0);
      const ids = await this.accounts.idsInSlot(slot);
      if (this.held.get(slot) !== h || h.releasing) return;
      h.version = Math.max(h.version, version);
      const present = new Set(ids);
      const gone = [...h.accounts].filter((id) => !present.has(id));
      const todo = ids.filter((id) => full || !h.accounts.has(id));
      for (const id of gone) {
        h.accounts.delete(id);
        await this.host.release(id, 'removed');
      }
      for (let i = 0; i < todo.length; i += RECONCILE_BATCH) {
        await Promise.all(todo.slice(i, i + RECONCILE_BATCH).map((id) => this.reconcileAccount(slot, id)));
        if (this.held.get(slot) !== h || h.releasing) return;
      }
    } catch (err) {
      log.warn('could not read slot', { slot, err });
    }
  }

  private async reconcileAccount(slot: number, accountId: string): Promise<void> {
    const h = this.held.get(slot);
    if (!h || h.releasing) return;
    h.accounts.add(accountId);
    try {
      const outcome = await this.host.reconcile(accountId, { ...h.lease, accountId });
      if (outcome === 'gone' && this.held.get(slot) === h) h.accounts.delete(accountId);
      // The slot was handed over or dropped while the host was starting the account: that
      // release ran before this start, so stop the account now (unless the slot is ours again).
      const now = this.held.get(slot);
      const ownedAgain = now !== undefined && now !== h && !now.releasing && now.accounts.has(accountId);
      if ((now !== h || h.releasing) && !ownedAgain) await this.host.release(accountId, 'handover');
    } catch (err) {
      log.warn('could not reconcile account', { accountId, err });
    }
  }

  /** Safety net: a slot whose version moved without this worker hearing of it is read again. */
  private async reconcileHeld(): Promise<void> {
    if (this.stopping || this.reconciling) return;
    this.reconciling = true;
    try {
      const slots = [...this.held.entries()].filter(([, h]) => !h.releasing);
      // One GET per held slot, auto-pipelined into a round trip or two.
      const versions = await Promise.all(slots.map(([slot]) => this.accounts.slotVersion(slot)));
      await Promise.all(
        slots.map(([slot, h], i) =>
          Number(versions[i] ?? 0) !== h.version && this.held.get(slot) === h ? this.loadSlot(slot, true) : undefined,
        ),
      );
      this.rebalance();
    } catch (err) {
      log.warn('slot reconcile failed', { err });
    } finally {
      this.reconciling = false;
    }
  }

  private async handOver(slot: number): Promise<void> {
    const h = this.held.get(slot);
    if (!h || h.releasing) return;
    h.releasing = true;
    await Promise.all([...h.accounts].map((id) => this.host.release(id, 'handover')));
    this.held.delete(slot);
    this.telemetry.slots?.(this.held.size);
    void this.subscriber?.unsubscribe(RedisKeys.slotChannel(slot)).catch(() => undefined);
    try {
      await this.leases.releaseSlot(h.lease);
      await this.membership.announce({ kind: 'release', slot });
      this.telemetry.handover?.();
    } catch (err) {
      // The lease runs out by itself; the new owner takes the slot then.
      log.warn('could not release slot', { slot, err });
    }
  }

  /** Stops the accounts of a slot without releasing its lease (lost to another, or unprovable). */
  private async drop(slot: number, reason: 'expired' | 'lost'): Promise<void> {
    const h = this.held.get(slot);
    if (!h || h.releasing) return;
    h.releasing = true;
    this.held.delete(slot);
    this.telemetry.slots?.(this.held.size);
    log.warn(
      reason === 'lost' ? 'slot lease lost; closing its connections' : 'slot lease can no longer be proven valid',
      {
        slot,
        accounts: h.accounts.size,
      },
    );
    await Promise.all([...h.accounts].map((id) => this.host.release(id, reason)));
    void this.subscriber?.unsubscribe(RedisKeys.slotChannel(slot)).catch(() => undefined);
    if (this.desired.has(slot)) this.retryLater(slot, ACQUIRE_RETRY_MS);
  }

  private checkValidity(): void {
    const now = this.now();
    for (const [slot, h] of this.held) if (!h.releasing && h.validUntil <= now) void this.drop(slot, 'expired');
  }

  private scheduleRenewal(ms: number): void {
    if (this.stopping) return;
    if (this.renewTimer) clearTimeout(this.renewTimer);
    this.renewTimer = setTimeout(() => void this.renewAll(), ms).unref();
  }

  private async renewAll(): Promise<void> {
    const batch = [...this.held.values()].filter((h) => !h.releasing);
    const sent = this.now();
    try {
      const renewed = await this.leases.renewSlots(
        batch.map((h) => h.lease),
        this.settings.leaseTtlMs,
      );
      batch.forEach((h, i) => {
        if (this.held.get(h.lease.slot) !== h) return;
        if (renewed[i]) h.validUntil = sent + this.settings.leaseTtlMs - this.settings.leaseMarginMs;
        else void this.drop(h.lease.slot, 'lost');
      });
      this.scheduleRenewal(Math.floor(this.settings.leaseTtlMs / 3));
    } catch (err) {
      // Unreachable is not lost: keep every connection while the leases are provably ours.
      log.warn('lease renewal failed; connections stay while the leases are provably valid', { err });
      this.scheduleRenewal(Math.min(RENEW_RETRY_MS, Math.floor(this.settings.leaseTtlMs / 10)));
    }
  }
}
