import { Inject, Injectable } from '@nestjs/common';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { APP_CONFIG, type AppConfig } from '@mailpush/config';
import { DeadLetterRepository } from '@mailpush/delivery';
import { LoginLimiter } from '@mailpush/limits';
import { createLogger } from '@mailpush/logging';
import { QueueRegistry } from '@mailpush/queue';
import {
  AccountRepository,
  DeviceRepository,
  LinkSessionRepository,
  OAuthStateRepository,
  REDIS,
  RedisKeys,
  UserRepository,
  scanKeys,
} from '@mailpush/store';

const log = createLogger('users');

/** How often erasure looks again while running jobs of the user end. */
const SETTLE_POLL_MS = 100;
const SCAN_COUNT = 1000;
/**
 * The slot owner hears an account's removal at once (pub/sub, or its reconcile) and closes the
 * watcher; a watcher that was mid-fetch can still enqueue what it fetched (its cursor write then
 * fails: the cursor script refuses a deleted account). Job traces are swept again after this.
 */
const WATCHER_GRACE_MS = 2_000;

export interface ErasureReport {
  accounts: number;
  devices: number;
  linkSessions: number;
  deadLetters: number;
  jobs: number;
  keys: number;
}

/**
 * Deletes a user and everything mailpush holds about them. Access goes first (user record, then
 * API key: nothing new can be created for them, see libs/store/quota.ts), then each mailbox
 * through the account-deletion path that tells its slot's owner (sealed password or OAuth2 grant,
 * cursor), devices, link sessions (Reconnect links too), pending OAuth2 sign-ins and refresh
 * locks, dead letters; then what the ids name elsewhere: queued jobs, BullMQ dedup keys and
 * event-stream entries, burst counters, limit counters. An event a watcher enqueued in the moment
 * before is skipped by the fan-out (the user is gone) and removed with its content.
 */
@Injectable()
export class UserErasureService {
  private readonly queues: Queue[];

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly users: UserRepository,
    private readonly accounts: AccountRepository,
    private readonly devices: DeviceRepository,
    private readonly sessions: LinkSessionRepository,
    private readonly oauthStates: OAuthStateRepository,
    private readonly deadLetters: DeadLetterRepository,
    private readonly limiter: LoginLimiter,
    queues: QueueRegistry,
  ) {
    this.queues = queues.all();
  }

  /** Null when there is no such user (nor anything left of one). Safe to run again after a crash. */
  async erase(userId: string): Promise<ErasureReport | null> {
    const [exists, accountsBefore, devicesBefore] = await Promise.all([
      this.users.find(userId),
      this.redis.scard(RedisKeys.userAccounts(userId)),
      this.redis.scard(RedisKeys.userDevices(userId)),
    ]);
    if (!exists && accountsBefore === 0 && devicesBefore === 0) return null;
    await this.users.remove(userId);
    // Read after the user record is gone: a create that still saw the user is in these sets, one
    // that did not undoes itself (libs/store/quota.ts).
    const [accountIds, deviceIds] = await Promise.all([
      this.redis.smembers(RedisKeys.userAccounts(userId)),
      this.redis.smembers(RedisKeys.userDevices(userId)),
    ]);
    const linkSessions = await this.sessions.removeAllForUser(userId);
    await this.oauthStates.removeAllForUser(userId);
    for (const id of accountIds) {
      // Deleting the record tells the slot's owner, which closes the watcher.
      await this.accounts.remove(userId, id);
      await this.redis.del(RedisKeys.oauthRefreshLock(id));
    }
    for (const id of deviceIds) await this.devices.remove(userId, id);
    // Two hash slots on a Redis Cluster: one DEL each.
    await this.redis.del(RedisKeys.userAccounts(userId));
    await this.redis.del(RedisKeys.userDevices(userId));
    const deadLetters = await this.deadLetters.removeForUser(userId);
    await this.limiter.forgetUser(userId);
    const ids = [userId, ...accountIds, ...deviceIds];
    let jobs = await this.removeJobs(ids);
    if (accountIds.length > 0) {
      await new Promise((resolve) => setTimeout(resolve, WATCHER_GRACE_MS));
      jobs += await this.removeJobs(ids);
    }
    const keys = await this.sweepKeys(ids);
    const report = { accounts: accountIds.length, devices: deviceIds.length, linkSessions, deadLetters, jobs, keys };
    log.info('user erased', { userId, ...report });
    return report;
  }

  /** Job ids carry the account (and device) ids: a job is the user's when its id names one of them. */
  private async removeJobs(ids: string[]): Promise<number> {
    let removed = 0;
    for (const queue of this.queues) {
      const prefix = `${this.config.queuePrefix}:${queue.name}:`;
      const jobIds = new Set<string>();
      const dedupKeys: string[] = [];
      for await (const key of this.scan(`${prefix}*`)) {
        if (!ids.some((id) => key.includes(id))) continue;
        const rest = key.slice(prefix.length);
        if (rest.startsWith('de:')) dedupKeys.push(key);
        else jobIds.add(rest.split(':')[0] ?? rest);
      }
      // An active job is locked; it ends within its processing time (and is then removed on completion).
      await this.settle(async () => {
        for (const jobId of [...jobIds]) {
          if ((await queue.remove(jobId)) === 1 || !(await queue.getJob(jobId))) {
            jobIds.delete(jobId);
            removed += 1;
          }
        }
        return jobIds.size === 0;
      });
      await Promise.all(dedupKeys.map((key) => this.redis.del(key)));
      await this.trimEvents(`${prefix}events`, ids);
    }
    return removed;
  }

  /** BullMQ's event stream names job ids ("completed acc_….42"): those entries go too. */
  private async trimEvents(stream: string, ids: string[]): Promise<void> {
    let start = '-';
    for (;;) {
      const entries = await this.redis.xrange(stream, start, '+', 'COUNT', SCAN_COUNT);
      const doomed = entries.filter(([, fields]) => fields.some((f) => ids.some((id) => f.includes(id))));
      if (doomed.length > 0) await this.redis.xdel(stream, ...doomed.map(([entryId]) => entryId));
      if (entries.length < SCAN_COUNT) return;
      start = `(${entries[entries.length - 1]?.[0] ?? '0'}`;
    }
  }

  /** Our own keys named by these ids (cursors, leases, burst windows, limit counters): deleted. */
  private async sweepKeys(ids: string[]): Promise<number> {
    const doomed: string[] = [];
    for await (const key of this.scan(RedisKeys.everything())) {
      if (ids.some((id) => key.includes(id))) doomed.push(key);
    }
    // One DEL per key (keys of many hash slots on a Redis Cluster), auto-pipelined.
    await Promise.all(doomed.map((key) => this.redis.del(key)));
    return doomed.length;
  }

  private scan(match: string): AsyncGenerator<string> {
    return scanKeys(this.redis, match, SCAN_COUNT);
  }

  /** Polls `done` until it holds or a lease lifetime (plus margin) has passed. */
  private async settle(done: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + this.config.leaseTtlMs + 5_000;
    while (!(await done()) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, SETTLE_POLL_MS));
    }
  }
}
