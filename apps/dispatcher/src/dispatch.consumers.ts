import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Queue, Worker, type Job } from 'bullmq';
import { APP_CONFIG, type AppConfig } from '../../../libs/config';
import { createLogger } from '../../../libs/logging';
import { metrics } from '../../../libs/metrics';
import { buildMailNotification } from '../../../libs/notifications';
import {
  JOB_DEFAULTS,
  JobName,
  QueueName,
  createBullConnection,
  deliveryJobId,
  type DeliveryJob,
  type MailEvent,
} from '../../../libs/queue';
import { DeviceRepository } from '../../../libs/store';
import { deliveryBackoffMs } from './delivery-backoff';
import { PushTransports } from './push-transports';

const log = createLogger('dispatcher');

export type FanOutOutcome = { status: 'fanned_out'; devices: number } | { status: 'no_devices' };
export type DeliveryOutcome =
  | { status: 'delivered' | 'pruned' | 'rejected' | 'skipped' | 'transport_disabled'; code?: string };

/**
 * Two consumers: `mail-events` fans each message out into one `deliveries` job per device (job id
 * = message key + device, so a replayed event adds nothing), and `deliveries` sends each one.
 * Expected conditions return an outcome; retriable failures throw so BullMQ retries with backoff.
 */
@Injectable()
export class DispatchConsumers implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly deliveries: Queue<DeliveryJob, DeliveryOutcome, JobName.Deliver>;
  private workers: Worker[] = [];

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly devices: DeviceRepository,
    private readonly transports: PushTransports,
  ) {
    this.deliveries = new Queue(QueueName.Deliveries, {
      connection: createBullConnection(config.redisUrl),
      prefix: config.queuePrefix,
      defaultJobOptions: JOB_DEFAULTS[QueueName.Deliveries],
    });
  }

  onApplicationBootstrap(): void {
    const common = { prefix: this.config.queuePrefix };
    const fanOut = new Worker<MailEvent, FanOutOutcome>(QueueName.MailEvents, (job) => this.fanOut(job), {
      ...common,
      connection: createBullConnection(this.config.redisUrl),
      concurrency: 20,
    });
    const deliver = new Worker<DeliveryJob, DeliveryOutcome>(QueueName.Deliveries, (job) => this.deliver(job), {
      ...common,
      connection: createBullConnection(this.config.redisUrl),
      concurrency: this.config.dispatchConcurrency,
      settings: { backoffStrategy: (attemptsMade: number, _type?: string, err?: Error) => deliveryBackoffMs(attemptsMade, err) },
    });
    deliver.on('failed', (job, err) => {
      if (job && job.attemptsMade >= (job.opts.attempts ?? 1)) {
        log.error('delivery gave up after all attempts', { jobId: job.id, err });
      }
    });
    for (const w of [fanOut, deliver]) w.on('error', (err) => log.warn('queue worker error', { err }));
    this.workers = [fanOut, deliver];
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
    await this.deliveries.close();
  }

  private async fanOut(job: Job<MailEvent>): Promise<FanOutOutcome> {
    const event = job.data;
    const devices = await this.devices.listForUser(event.userId);
    if (devices.length === 0) return { status: 'no_devices' };
    await this.deliveries.addBulk(
      devices.map((device) => ({
        name: JobName.Deliver,
        data: { event, deviceId: device.id },
        opts: { jobId: deliveryJobId(event, device.id) },
      })),
    );
    return { status: 'fanned_out', devices: devices.length };
  }

  private async deliver(job: Job<DeliveryJob>): Promise<DeliveryOutcome> {
    const { event, deviceId } = job.data;
    const device = await this.devices.find(deviceId);
    if (!device || device.userId !== event.userId) return { status: 'skipped' };
    let result;
    try {
      result = await this.transports.send(device, buildMailNotification(event, device.privacy));
    } catch (err) {
      metrics.deliveries.inc({ platform: device.platform, outcome: 'retry' });
      throw err;
    }
    metrics.deliveries.inc({ platform: device.platform, outcome: result.status });
    switch (result.status) {
      case 'delivered':
        metrics.deliveryLatency.observe({ platform: device.platform }, (Date.now() - event.detectedAt) / 1000);
        log.info('delivered', { messageKey: event.messageKey, deviceId, platform: device.platform, latencyMs: Date.now() - event.detectedAt });
        return { status: 'delivered' };
      case 'dead_token': {
        const pruned = await this.devices.pruneIfToken(deviceId, device.token);
        log.info('push service says the token is dead; device removed', { deviceId, code: result.code, pruned });
        return { status: 'pruned', code: result.code };
      }
      case 'rejected':
        log.warn('push service rejected the notification', { deviceId, code: result.code });
        return { status: 'rejected', code: result.code };
      case 'transport_disabled':
        return { status: 'transport_disabled' };
    }
  }
}
