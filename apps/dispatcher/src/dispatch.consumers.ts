import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { Job } from 'bullmq';
import { APP_CONFIG, type AppConfig } from '@mailpush/config';
import { DeadLetterRepository, DeliveryMarks, type DeadLetterJob } from '@mailpush/delivery';
import { ErrorClass, ErrorCode } from '@mailpush/errors';
import { createLogger } from '@mailpush/logging';
import { metrics } from '@mailpush/metrics';
import { PushDeliveryError } from '@mailpush/push';
import {
  JobName,
  QueueName,
  QueueRegistry,
  deliveryJobId,
  routeJob,
  withoutContent,
  type JobHandlers,
} from '@mailpush/queue';
import { DeviceRepository } from '@mailpush/store';
import { deliveryBackoffMs } from './delivery-backoff';
import { BatchDeliveryError, DeliveryHandler, type BatchOutcome, type DeliveryOutcome } from './delivery.handler';
import { FanOutService, type FanOutOutcome } from './fan-out.service';

const log = createLogger('dispatcher');

/** Fan-out is a few Redis calls per device; deliveries are where concurrency matters. */
const FAN_OUT_CONCURRENCY = 20;

export type { BatchOutcome, DeliveryOutcome, FanOutOutcome };

/** What a delivery job's last failure leaves behind, per job name. */
type Epitaph = JobHandlers<QueueName.Deliveries, void>;

/**
 * Two consumers: `mail-events` fans each message out (see {@link FanOutService}), `deliveries`
 * sends (see {@link DeliveryHandler}). A device whose delivery fails on the job's last attempt is
 * recorded in the dead-letter list for the admin API. The registry closes both before the
 * transports and queues (active deliveries finish first).
 */
@Injectable()
export class DispatchConsumers implements OnApplicationBootstrap {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly queues: QueueRegistry,
    private readonly fanOut: FanOutService,
    private readonly delivery: DeliveryHandler,
    private readonly deadLetters: DeadLetterRepository,
    private readonly devices: DeviceRepository,
    private readonly marks: DeliveryMarks,
  ) {}

  onApplicationBootstrap(): void {
    const fanOut = this.queues.consume<QueueName.MailEvents, FanOutOutcome>(
      QueueName.MailEvents,
      {
        [JobName.NewMail]: async (event, job) => {
          const outcome = await this.fanOut.fanOut(event);
          // The job goes with its content on completion (removeOnComplete); its dedup key names the account.
          if (outcome.status === 'skipped' && outcome.reason === 'user_gone') await job.removeDeduplicationKey();
          return outcome;
        },
        [JobName.Reauth]: (event) => this.fanOut.fanOutReauth(event),
      },
      { concurrency: FAN_OUT_CONCURRENCY },
    );
    const deliver = this.queues.consume<QueueName.Deliveries, DeliveryOutcome | BatchOutcome>(
      QueueName.Deliveries,
      {
        [JobName.DeliverBatch]: (batch, job) => this.delivery.deliverBatch(batch, jobIdOf(job)),
        [JobName.Deliver]: ({ event, deviceId }, job) =>
          this.delivery.deliverBatch({ event, deviceIds: [deviceId] }, jobIdOf(job)),
        [JobName.DeliverBurstSummary]: (summary) => this.delivery.deliverSummary(summary),
        [JobName.DeliverReauth]: (reauth) => this.delivery.deliverReauth(reauth),
      },
      {
        concurrency: this.config.dispatchConcurrency,
        settings: {
          backoffStrategy: (attemptsMade: number, _type?: string, err?: Error) => deliveryBackoffMs(attemptsMade, err),
        },
      },
    );
    deliver.on('failed', (job, err) => {
      if (job && job.attemptsMade >= (job.opts.attempts ?? 1)) {
        void routeJob(QueueName.Deliveries, this.epitaph(err), job).catch((e: unknown) =>
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
  }

  private epitaph(err: Error): Epitaph {
    return {
      [JobName.DeliverBatch]: async ({ event, deviceIds }, job) => {
        // A batch's settled devices are done; each other one becomes its own dead letter, replayed alone.
        const settled = await this.marks.settled(event.messageKey, deviceIds);
        const unsettled = deviceIds.filter((id) => !settled.has(id));
        // A claim left behind by a failure that skipped its release would keep the replay from sending.
        await this.marks.release(event.messageKey, ...unsettled);
        for (const deviceId of unsettled) {
          const cause = err instanceof BatchDeliveryError ? (err.failures.get(deviceId) ?? err) : err;
          await this.recordDeadLetter(
            { jobName: JobName.Deliver, data: { event: withoutContent(event), deviceId } },
            deliveryJobId(event, deviceId),
            event.userId,
            cause,
            job.attemptsMade,
          );
        }
      },
      [JobName.Deliver]: async ({ event, deviceId }, job) => {
        await this.marks.release(event.messageKey, deviceId);
        const cause = err instanceof BatchDeliveryError ? (err.failures.get(deviceId) ?? err) : err;
        await this.recordDeadLetter(
          { jobName: JobName.Deliver, data: { event: withoutContent(event), deviceId } },
          jobIdOf(job),
          event.userId,
          cause,
          job.attemptsMade,
        );
      },
      [JobName.DeliverBurstSummary]: async (summary, job) => {
        await this.recordDeadLetter(
          { jobName: JobName.DeliverBurstSummary, data: summary },
          jobIdOf(job),
          summary.userId,
          err,
          job.attemptsMade,
        );
      },
      [JobName.DeliverReauth]: async (_reauth, job) => {
        // A Reconnect is asked again at the next refusal after a re-arm; the account stays visible in auth_error.
        metrics.deadLetters.inc({ platform: 'unknown' });
        log.error('a reconnect notification gave up after all attempts', { jobId: job.id });
      },
    };
  }

  private async recordDeadLetter(
    target: DeadLetterJob,
    jobId: string,
    userId: string,
    err: Error,
    attempts: number,
  ): Promise<void> {
    // Dead letters keep ids and error codes, never sender or subject (the job itself is removed).
    const deviceId = target.data.deviceId;
    const device = await this.devices.find(deviceId);
    const error =
      err instanceof PushDeliveryError
        ? { errorClass: err.classified.errorClass, code: err.classified.code, message: err.classified.message }
        : // Anything else is ours (a bug, Redis trouble); its text may quote data, so only its class is kept.
          { errorClass: ErrorClass.Transient, code: ErrorCode.InternalError, message: `delivery failed (${err.name})` };
    const letter = await this.deadLetters.add({
      ...target,
      jobId,
      userId,
      deviceId,
      ...(device ? { platform: device.platform } : {}),
      error,
      attempts,
      failedAt: new Date().toISOString(),
    });
    metrics.deadLetters.inc({ platform: device?.platform ?? 'unknown' });
    log.error('delivery gave up after all attempts; kept as a dead letter', {
      jobId,
      deadLetterId: letter.id,
      code: error.code,
    });
  }
}

/** Every job the consumers see was added with an id (dedupJobOptions). */
function jobIdOf(job: Job): string {
  if (!job.id) throw new Error('a delivery job without an id');
  return job.id;
}
