import type { DefaultJobOptions } from 'bullmq';
import { QueueName } from './queue-names';

const DAY_S = 24 * 3600;

/**
 * Job ids are the dedup keys (a message key, or message key + device), and BullMQ dedups only
 * while the job is kept: keep completed jobs for 3 days, far beyond any reconnect catch-up window.
 */
export const JOB_DEFAULTS: Record<QueueName, DefaultJobOptions> = {
  [QueueName.MailEvents]: {
    attempts: 10,
    backoff: { type: 'exponential', delay: 1000, jitter: 0.5 },
    removeOnComplete: { age: 3 * DAY_S, count: 200_000 },
    removeOnFail: { age: 7 * DAY_S },
  },
  [QueueName.Deliveries]: {
    attempts: 8,
    backoff: { type: 'delivery' },
    removeOnComplete: { age: 3 * DAY_S, count: 500_000 },
    removeOnFail: { age: 14 * DAY_S },
  },
};
