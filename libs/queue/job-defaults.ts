import type { DefaultJobOptions, JobsOptions } from 'bullmq';
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
  [QueueName.Deliveries]: {
    attempts: 8,
    backoff: { type: 'delivery' },
    removeOnComplete: true,
    removeOnFail: true,
  },
};

/**
 * The options every job is added with: its idempotency key as job id (dedup while it is queued)
 * and as deduplication id for DEDUP_TTL_MS after it ended (the job itself is gone by then).
 */
export function dedupJobOptions(jobId: string): Pick<JobsOptions, 'jobId' | 'deduplication'> {
  return { jobId, deduplication: { id: jobId, ttl: DEDUP_TTL_MS } };
}
