import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { type BeforeApplicationShutdown, Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { APP_CONFIG, type AppConfig } from '@mailpush/config';
import { DeadLetterRepository } from '@mailpush/delivery';
import { createLogger } from '@mailpush/logging';
import { clusterExport, clusterMetrics } from '@mailpush/metrics';
import { QueueRegistry } from '@mailpush/queue';
import {
  AccountCensus,
  REDIS,
  RedisKeys,
  WorkerMembership,
  releaseIfHolder,
  renewIfHolder,
  type AccountStatus,
} from '@mailpush/store';

const log = createLogger('cluster-metrics');

const QUEUE_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'failed'] as const;
const KNOWN_STATUSES: readonly AccountStatus[] = ['connecting', 'idle', 'polling', 'backoff', 'auth_error', 'disabled'];

/**
 * Cluster-wide gauges (queue depth and oldest job, accounts by status, unowned accounts, live
 * workers, dead letters), computed by ONE api process: the one holding a short Redis lease. The
 * api runs whenever the system is reachable at all and its replica count does not follow the
 * signals measured here (workers and dispatchers autoscale on them); a worker could not report
 * that no worker is alive. Every other process serves these gauges empty, so nothing is
 * multiplied by replicas and the O(accounts) census runs once per interval, not once per pod.
 */
@Injectable()
export class ClusterMetricsCollector implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly holder = `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
  private readonly queues: Queue[];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly census: AccountCensus,
    private readonly membership: WorkerMembership,
    private readonly deadLetters: DeadLetterRepository,
    queues: QueueRegistry,
  ) {
    this.queues = queues.all();
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.tick(), this.config.clusterMetricsIntervalMs);
    this.timer.unref();
    void this.tick();
  }

  /** Before the queues and Redis close (onApplicationShutdown): a pass in flight finishes first. */
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
    if (clusterExport.active) {
      clusterExport.active = false;
      await releaseIfHolder(this.redis, RedisKeys.clusterMetricsLease(), this.holder).catch(() => false);
    }
  }

  private tick(): Promise<void> {
    this.running ??= this.collectIfLeader()
      .catch((err: unknown) => {
        // Stale figures would mislead: serve none until a pass succeeds again.
        clusterExport.active = false;
        log.warn('cluster metrics not collected', { err });
      })
      .finally(() => (this.running = undefined));
    return this.running;
  }

  private async collectIfLeader(): Promise<void> {
    const leader = await this.holdLease();
    if (leader !== clusterExport.active)
      log.info(leader ? 'exporting cluster metrics' : 'no longer exporting cluster metrics');
    if (!leader) {
      clusterExport.active = false;
      return;
    }
    await this.collect();
    clusterExport.active = true;
  }

  /** Takes or renews the collector lease; it outlives three intervals so one slow pass keeps it. */
  private async holdLease(): Promise<boolean> {
    const key = RedisKeys.clusterMetricsLease();
    const ttl = 3 * this.config.clusterMetricsIntervalMs;
    if ((await this.redis.set(key, this.holder, 'PX', ttl, 'NX')) === 'OK') return true;
    const [renewed] = await renewIfHolder(this.redis, [{ key, holder: this.holder }], ttl);
    return renewed === true;
  }

  private async collect(): Promise<void> {
    const [census, workers, deadLetters, queues] = await Promise.all([
      this.census.take(),
      this.membership.live(this.config.leaseTtlMs),
      this.deadLetters.count(),
      Promise.all(this.queues.map((q) => this.queueFigures(q))),
    ]);
    const m = clusterMetrics;
    m.accounts.reset();
    for (const status of KNOWN_STATUSES) m.accounts.set({ status }, 0);
    for (const [status, n] of Object.entries(census.byStatus)) m.accounts.set({ status }, n);
    m.accountsUnowned.set(census.unowned);
    m.workersLive.set(workers.length);
    m.deadLetters.set(deadLetters);
    for (const { queue, counts, oldestWaitingS } of queues) {
      for (const state of QUEUE_STATES) m.queueJobs.set({ queue, state }, counts[state] ?? 0);
      m.queueOldestWaiting.set({ queue }, oldestWaitingS);
    }
    m.collectedAt.set(Date.now() / 1000);
  }

  /**
   * Depth per state and the age of the oldest waiting job (the wait list's tail: BullMQ pushes on
   * the left and takes from the right), counted from when it became due: created plus its delay,
   * or the start of its last attempt for a retried job (BullMQ keeps no "waiting since").
   */
  private async queueFigures(q: Queue): Promise<{
    queue: string;
    counts: Record<string, number>;
    oldestWaitingS: number;
  }> {
    const [counts, oldest] = await Promise.all([q.getJobCounts(...QUEUE_STATES), q.getJobs(['wait'], 0, 0, true)]);
    const job = oldest[0];
    let oldestWaitingS = 0;
    if (job) {
      const due = Math.max(job.timestamp + (job.opts.delay ?? 0), job.processedOn ?? 0);
      oldestWaitingS = Math.max(0, (Date.now() - due) / 1000);
    }
    return { queue: q.name, counts, oldestWaitingS };
  }
}
