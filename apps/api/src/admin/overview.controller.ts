import { Controller, Get, Inject, Injectable, UseGuards } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { APP_CONFIG, type AppConfig } from '@mailpush/config';
import { DeadLetterRepository } from '@mailpush/delivery';
import { QueueRegistry, type QueueName } from '@mailpush/queue';
import { AccountRepository, WorkerMembership, type AccountStatus } from '@mailpush/store';
import { AdminGuard } from '../common/auth.guards';

type QueueCounts = Record<'waiting' | 'active' | 'delayed' | 'prioritized' | 'failed' | 'completed', number>;

/** BullMQ answers the states asked for as a plain string-keyed record. */
function queueCounts(raw: Record<string, number | undefined>): QueueCounts {
  return {
    waiting: raw.waiting ?? 0,
    active: raw.active ?? 0,
    delayed: raw.delayed ?? 0,
    prioritized: raw.prioritized ?? 0,
    failed: raw.failed ?? 0,
    completed: raw.completed ?? 0,
  };
}

export interface Overview {
  accounts: { total: number; byStatus: Partial<Record<AccountStatus, number>> };
  workers: { live: number; ids: string[] };
  queues: Record<QueueName, QueueCounts>;
  deadLetters: number;
}

/** The operator's one-look view: where accounts stand, who watches them, what is queued or stuck. */
@Injectable()
export class OverviewService {
  private readonly queues: Queue[];

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly accounts: AccountRepository,
    private readonly membership: WorkerMembership,
    private readonly deadLetters: DeadLetterRepository,
    queues: QueueRegistry,
  ) {
    this.queues = queues.all();
  }

  async overview(): Promise<Overview> {
    const [byStatus, workers, deadLetters, ...counts] = await Promise.all([
      this.accounts.statusCounts(),
      this.membership.live(this.config.leaseTtlMs),
      this.deadLetters.count(),
      ...this.queues.map((q) => q.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'failed', 'completed')),
    ]);
    const queues = Object.fromEntries(this.queues.map((q, i) => [q.name, queueCounts(counts[i] ?? {})])) as Record<
      QueueName,
      QueueCounts
    >;
    const total = Object.values(byStatus).reduce((a, b) => a + b, 0);
    return { accounts: { total, byStatus }, workers: { live: workers.length, ids: workers }, queues, deadLetters };
  }
}

@Controller('v1/admin/overview')
@UseGuards(AdminGuard)
export class OverviewController {
  constructor(private readonly service: OverviewService) {}

  @Get()
  overview(): Promise<Overview> {
    return this.service.overview();
  }
}
