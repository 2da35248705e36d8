import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Queue } from 'bullmq';
import { APP_CONFIG, type AppConfig } from '@mailpush/config';
import { createBullConnection } from './bullmq-connection';
import { JOB_DEFAULTS, dedupJobOptions } from './job-defaults';
import { reauthKey, type MailEvent, type ReauthEvent } from './mail-event';
import { JobName, QueueName } from './queue-names';

export type MailEventsJobName = JobName.NewMail | JobName.Reauth;
export type MailEventsJobData = MailEvent | ReauthEvent;

@Injectable()
export class MailEventsProducer implements OnApplicationShutdown {
  private readonly queue: Queue<MailEventsJobData, unknown, MailEventsJobName>;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.queue = new Queue(QueueName.MailEvents, {
      connection: createBullConnection(config.redis),
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

  /** Once per account and credentials version (job id), however many workers or retries see the refusal. */
  async enqueueReauth(event: ReauthEvent): Promise<void> {
    await this.queue.add(JobName.Reauth, event, dedupJobOptions(reauthKey(event.accountId, event.credentialsVersion)));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.queue.close();
  }
}
