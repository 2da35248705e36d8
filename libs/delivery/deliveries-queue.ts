import { Queue } from 'bullmq';
import type { AppConfig } from '@mailpush/config';
import {
  JOB_DEFAULTS,
  JobName,
  QueueName,
  createBullConnection,
  type BurstSummaryJob,
  type DeliveryJob,
  type ReauthDeliveryJob,
} from '@mailpush/queue';

export type DeliveriesJobName = JobName.Deliver | JobName.DeliverBurstSummary | JobName.DeliverReauth;
export type DeliveriesJobData = DeliveryJob | BurstSummaryJob | ReauthDeliveryJob;
export type DeliveriesQueue = Queue<DeliveriesJobData, unknown, DeliveriesJobName>;

/** The `deliveries` queue as its producers (fan-out, dead-letter replay) add to it. */
export function createDeliveriesQueue(config: AppConfig): DeliveriesQueue {
  return new Queue<DeliveriesJobData, unknown, DeliveriesJobName>(QueueName.Deliveries, {
    connection: createBullConnection(config.redis),
    prefix: config.queuePrefix,
    defaultJobOptions: { ...JOB_DEFAULTS[QueueName.Deliveries], attempts: config.push.deliveryAttempts },
  });
}
