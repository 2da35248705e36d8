import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Queue } from 'bullmq';
import { APP_CONFIG, type AppConfig } from '../config';
import { redisTlsOptions } from '../store/redis.provider';
import { createBullConnection } from './bullmq-connection';
import { JOB_DEFAULTS, dedupJobOptions } from './job-defaults';
import type { MailEvent } from './mail-event';
import { JobName, QueueName } from './queue-names';

@Injectable()
export class MailEventsProducer implements OnApplicationShutdown {
  private readonly queue: Queue<MailEvent, unknown, JobName.NewMail>;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.queue = new Queue(QueueName.MailEvents, {
      connection: createBullConnection(config.redisUrl, redisTlsOptions(config)),
      prefix: config.queuePrefix,
      defaultJobOptions: JOB_DEFAULTS[QueueName.MailEvents],
    });
  }

  /** Enqueues in one round trip; an event already queued (same message key) is not added twice. */
  async enqueue(events: MailEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.queue.addBulk(
      events.map((data) => ({ name: JobName.NewMail, data, opts: dedupJobOptions(data.messageKey) })),
    );
  }

  async onApplicationShutdown(): Promise<void> {
    await this.queue.close();
  }
}
