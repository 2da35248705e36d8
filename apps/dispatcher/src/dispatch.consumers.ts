import { type BeforeApplicationShutdown, Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { Worker, type Job } from 'bullmq';
import { APP_CONFIG, type AppConfig } from '@mailpush/config';
import {
  DeadLetterRepository,
  type DeadLetterJob,
  type DeliveriesJobData,
  type DeliveriesJobName,
} from '@mailpush/delivery';
import { ErrorClass, ErrorCode } from '@mailpush/errors';
import { createLogger } from '@mailpush/logging';
import { metrics } from '@mailpush/metrics';
import { PushDeliveryError } from '@mailpush/push';
import {
  JobName,
  QueueName,
  createBullConnection,
  type BurstSummaryJob,
  type DeliveryJob,
  type MailEventsJobData,
  type MailEventsJobName,
  type MailEvent,
  type ReauthEvent,
  withoutContent,
} from '@mailpush/queue';
import { DeviceRepository } from '@mailpush/store';
import { deliveryBackoffMs } from './delivery-backoff';
import { DeliveryHandler, type DeliveryOutcome } from './delivery.handler';
import { FanOutService, type FanOutOutcome } from './fan-out.service';

const log = createLogger('dispatcher');

/** Fan-out is a few Redis calls per device; deliveries are where concurrency matters. */
const FAN_OUT_CONCURRENCY = 20;

export type { DeliveryOutcome, FanOutOutcome };

/**
 * Two consumers: `mail-events` fans each message out (see {@link FanOutService}), `deliveries`
 * sends each one (see {@link DeliveryHandler}). A delivery that fails on its last attempt is
 * recorded in the dead-letter list for the admin API.
 */
@Injectable()
export class DispatchConsumers implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private workers: { close(): Promise<void> }[] = [];

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly fanOut: FanOutService,
    private readonly delivery: DeliveryHandler,
    private readonly deadLetters: DeadLetterRepository,
    private readonly devices: DeviceRepository,
  ) {}

  onApplicationBootstrap(): void {
    const common = { prefix: this.config.queuePrefix };
    const fanOut = new Worker<MailEventsJobData, FanOutOutcome, MailEventsJobName>(
      QueueName.MailEvents,
      async (job) => {
        const outcome =
          job.name === JobName.Reauth
            ? await this.fanOut.fanOutReauth(job.data as ReauthEvent)
            : await this.fanOut.fanOut(job.data as MailEvent);
        // The job goes with its content on completion (removeOnComplete); its dedup key names the account.
        if (outcome.status === 'skipped' && outcome.reason === 'user_gone') await job.removeDeduplicationKey();
        return outcome;
      },
      {
        ...common,
        connection: createBullConnection(this.config.redis),
        concurrency: FAN_OUT_CONCURRENCY,
      },
    );
    const deliver = new Worker<DeliveriesJobData, DeliveryOutcome, DeliveriesJobName>(
      QueueName.Deliveries,
      (job) => this.delivery.handle(job),
      {
        ...common,
        connection: createBullConnection(this.config.redis),
        concurrency: this.config.dispatchConcurrency,
        settings: {
          backoffStrategy: (attemptsMade: number, _type?: string, err?: Error) => deliveryBackoffMs(attemptsMade, err),
        },
      },
    );
    deliver.on('failed', (job, err) => {
      if (job && job.attemptsMade >= (job.opts.attempts ?? 1)) {
        void this.recordDeadLetter(job, err).catch((e: unknown) =>
          log.error('could not record a dead letter', { jobId: job.id, err: e }),
        );
      }
    });
    fanOut.on('failed', (job, err) => {
      if (job && job.attemptsMade >= (job.opts.attempts ?? 1)) {
        // Removed with its content (removeOnFail): say so loudly, by id only.
        log.error('fan-out gave up after all attempts; the message is not notified', { jobId: job.id, err });
      }
    });
    fanOut.on('error', (err) => log.warn('queue worker error', { err }));
    deliver.on('error', (err) => log.warn('queue worker error', { err }));
    this.workers = [fanOut, deliver];
  }

  /** Before the transports and queues close (onApplicationShutdown): active deliveries finish first. */
  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
  }

  private async recordDeadLetter(
    job: Job<DeliveriesJobData, DeliveryOutcome, DeliveriesJobName>,
    err: Error,
  ): Promise<void> {
    if (job.name === JobName.DeliverReauth) {
      // A Reconnect is asked again at the next refusal after a re-arm; the account stays visible in auth_error.
      metrics.deadLetters.inc({ platform: 'unknown' });
      log.error('a reconnect notification gave up after all attempts', { jobId: job.id });
      return;
    }
    // Dead letters keep ids and error codes, never sender or subject (the job itself is removed).
    const target: DeadLetterJob =
      job.name === JobName.DeliverBurstSummary
        ? { jobName: JobName.DeliverBurstSummary, data: job.data as BurstSummaryJob }
        : {
            jobName: JobName.Deliver,
            data: { ...(job.data as DeliveryJob), event: withoutContent((job.data as DeliveryJob).event) },
          };
    const userId = target.jobName === JobName.Deliver ? target.data.event.userId : target.data.userId;
    const deviceId = target.data.deviceId;
    const device = await this.devices.find(deviceId);
    const error =
      err instanceof PushDeliveryError
        ? { errorClass: err.classified.errorClass, code: err.classified.code, message: err.classified.message }
        : // Anything else is ours (a bug, Redis trouble); its text may quote data, so only its class is kept.
          { errorClass: ErrorClass.Transient, code: ErrorCode.InternalError, message: `delivery failed (${err.name})` };
    const letter = await this.deadLetters.add({
      ...target,
      jobId: job.id ?? '',
      userId,
      deviceId,
      ...(device ? { platform: device.platform } : {}),
      error,
      attempts: job.attemptsMade,
      failedAt: new Date().toISOString(),
    });
    metrics.deadLetters.inc({ platform: device?.platform ?? 'unknown' });
    log.error('delivery gave up after all attempts; kept as a dead letter', {
      jobId: job.id,
      deadLetterId: letter.id,
      code: error.code,
    });
  }
}
