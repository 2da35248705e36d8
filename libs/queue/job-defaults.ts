import type { DefaultJobOptions, JobsOptions } from 'bullmq';
import type { AppConfig } from '@mailpush/config';
import { QueueName } from './queue-names';

const DAY_MS = 24 * 3600_000;

/**
 * How long a job id stays "seen" after its job ends: far beyond any reconnect catch-up window, so
 * a message published again days later is still not notified twice.
 */
export const DEDUP_TTL_MS = 3 * DAY_MS;

/**
 * Jobs carry sender and subject while they wait: nothing of them is kept once they end. Completed
 * and finally failed jobs are removed at once (a failed delivery lives on as a content-free dead
 * letter), and dedup rests on BullMQ's deduplication keys instead, which hold only the job id
 * (see {@link dedupJobOptions}).
 */
export const JOB_DEFAULTS: Record<QueueName, DefaultJobOptions> = {
  [QueueName.MailEvents]: {
    attempts: 10,
    backoff: { type: 'exponential', delay: 1000, jitter: 0.5 },
    removeOnComplete: true,
    removeOnFail: true,
  },
  // Attempts come from configuration (MAILPUSH_DELIVERY_ATTEMPTS): see jobDefaults.
  [QueueName.Deliveries]: {
    backoff: { type: 'delivery' },
    removeOnComplete: true,
    removeOnFail: true,
  },
};

/** A queue's defaults as its producers add with them: the one place attempts are set. */
export function jobDefaults(queue: QueueName, config: Pick<AppConfig, 'push'>): DefaultJobOptions {
  return queue === QueueName.Deliveries
    ? { ...JOB_DEFAULTS[queue], attempts: config.push.deliveryAttempts }
    : JOB_DEFAULTS[queue];
}

/**
 * The options every job is added with: its idempotency key as job id (dedup while it is queued)
 * and as deduplication id for DEDUP_TTL_MS after it ended (the job itself is gone by then).
 */
export function dedupJobOptions(jobId: string): Pick<JobsOptions, 'jobId' | 'deduplication'> {
  return { jobId, deduplication: { id: jobId, ttl: DEDUP_TTL_MS } };
}
