import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { APP_CONFIG, type AppConfig } from '../../../../libs/config';
import { DeadLetterRepository } from '../../../../libs/delivery';
import { LoginLimiter } from '../../../../libs/limits';
import { createLogger } from '../../../../libs/logging';
import { QueueName, createBullConnection } from '../../../../libs/queue';
import {
  AccountRepository,
  DeviceRepository,
  LeaseRepository,
  LinkSessionRepository,
  REDIS,
  RedisKeys,
  UserRepository,
  redisTlsOptions,
} from '../../../../libs/store';

const log = createLogger('users');

/** How long erasure waits for workers to let go of the user's mailboxes and for running jobs to end. */
const SETTLE_POLL_MS = 100;
const SCAN_COUNT = 1000;

export interface ErasureReport {
  accounts: number;
  devices: number;
  linkSessions: number;
  deadLetters: number;
  jobs: number;
  keys: number;
}

/**
 * Deletes a user and everything mailpush holds about them. Access goes first (API key, user
 * record: nothing new can be created for them), then each mailbox through the account-deletion
 * path workers already listen to, devices, link sessions and dead letters; then what the ids name
 * elsewhere: queued jobs, BullMQ dedup keys and event-stream entries, burst counters, limit counters.
 */
@Injectable()
export class UserErasureService implements OnApplicationShutdown {
  private readonly queues: Queue[];

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly users: UserRepository,
    private readonly accounts: AccountRepository,
    private readonly devices: DeviceRepository,
    private readonly leases: LeaseRepository,
    private readonly sessions: LinkSessionRepository,
    private readonly deadLetters: DeadLetterRepository,
    private readonly limiter: LoginLimiter,
  ) {
    const connection = createBullConnection(config.redisUrl, redisTlsOptions(config));
    this.queues = Object.values(QueueName).map((name) => new Queue(name, { connection, prefix: config.queuePrefix }));
  }

  /** Null when there is no such user (nor anything left of one). Safe to run again after a crash. */
  async erase(userId: string): Promise<ErasureReport | null> {
    const [exists, accountIds, deviceIds] = await Promise.all([
      this.users.find(userId),
      this.redis.smembers(RedisKeys.userAccounts(userId)),
      this.redis.smembers(RedisKeys.userDevices(userId)),
    ]);
    if (!exists && accountIds.length === 0 && deviceIds.length === 0) return null;
    await this.users.remove(userId);
    const linkSessions = await this.sessions.removeAllForUser(userId);
    for (const id of accountIds) await this.accounts.remove(userId, id);
    for (const id of deviceIds) await this.devices.remove(userId, id);
    await this.redis.del(RedisKeys.userAccounts(userId), RedisKeys.userDevices(userId));
    const deadLetters = await this.deadLetters.removeForUser(userId);
    await this.limiter.forgetUser(userId);
    // Workers were told through the accounts channel; once they let go, nothing writes for these ids.
    await this.settle(async () => {
      for (const id of accountIds) if (await this.leases.isHeld(id)) return false;
      return true;
    });
    const ids = [userId, ...accountIds, ...deviceIds];
    const jobs = await this.removeJobs(ids);
    const keys = await this.sweepKeys(ids);
    const report = { accounts: accountIds.length, devices: deviceIds.length, linkSessions, deadLetters, jobs, keys };
    log.info('user erased', { userId, ...report });
    return report;
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.queues.map((q) => q.close()));
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
      if (dedupKeys.length > 0) await this.redis.del(...dedupKeys);
      await this.trimEvents(`${prefix}events`, ids);
    }
    return removed;
  }

  /** BullMQ's event stream names job ids ("completed acc_….42"): those entries go too. */
  private async trimEvents(stream: string, ids: string[]): Promise<void> {
    let start = '-';
    for (;;) {
      const entries = (await this.redis.xrange(stream, start, '+', 'COUNT', SCAN_COUNT)) as [string, string[]][];
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
    for (let i = 0; i < doomed.length; i += 500) await this.redis.del(...doomed.slice(i, i + 500));
    return doomed.length;
  }

  private async *scan(match: string): AsyncGenerator<string> {
    const stream = this.redis.scanStream({ match, count: SCAN_COUNT });
    for await (const keys of stream as AsyncIterable<string[]>) yield* keys;
  }

  /** Polls `done` until it holds or a lease lifetime (plus margin) has passed. */
  private async settle(done: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + this.config.leaseTtlMs + 5_000;
    while (!(await done()) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, SETTLE_POLL_MS));
    }
  }
}
