import { Injectable } from '@nestjs/common';
import { dedupJobOptions } from './job-defaults';
import { reauthKey, type MailEvent, type ReauthEvent } from './mail-event';
import { JobName, QueueName } from './queue-names';
import { QueueRegistry, type JobProducer } from './queue-registry';

/** What workers put on `mail-events`. */
@Injectable()
export class MailEventsProducer {
  private readonly queue: JobProducer<QueueName.MailEvents>;

  constructor(queues: QueueRegistry) {
    this.queue = queues.producer(QueueName.MailEvents);
  }

  /** Enqueues in one round trip; an event already queued (same message key) is not added twice. */
  async enqueue(events: MailEvent[]): Promise<void> {
    await this.queue.addBulk(
      events.map((data) => ({ name: JobName.NewMail, data, opts: dedupJobOptions(data.messageKey) })),
    );
  }

  /** Once per account and credentials version (job id), however many workers or retries see the refusal. */
  async enqueueReauth(event: ReauthEvent): Promise<void> {
    await this.queue.add(JobName.Reauth, event, dedupJobOptions(reauthKey(event.accountId, event.credentialsVersion)));
  }
}
