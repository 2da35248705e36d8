import { Queue } from 'bullmq';
import type { AppConfig } from '../config';
import {
  JOB_DEFAULTS,
  JobName,
  QueueName,
  createBullConnection,
  type BurstSummaryJob,
  type DeliveryJob,
} from '../queue';
import { redisTlsOptions } from '../store';

export type DeliveriesJobName = JobName.Deliver | JobName.DeliverBurstSummary;
export type DeliveriesJobData = DeliveryJob | BurstSummaryJob;
export type DeliveriesQueue = Queue<DeliveriesJobData, unknown, DeliveriesJobName>;

/** The `deliveries` queue as its producers (fan-out, dead-letter replay) add to it. */
export function createDeliveriesQueue(config: AppConfig): DeliveriesQueue {
  return new Queue<DeliveriesJobData, unknown, DeliveriesJobName>(QueueName.Deliveries, {
    connection: createBullConnection(config.redisUrl, redisTlsOptions(config)),
    prefix: config.queuePrefix,
    defaultJobOptions: { ...JOB_DEFAULTS[QueueName.Deliveries], attempts: config.push.deliveryAttempts },
  });
}
