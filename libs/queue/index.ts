export { QueueName, JobName } from './queue-names';
export {
  messageKey,
  summaryKey,
  deliveryJobId,
  burstSummaryJobId,
  reauthKey,
  reauthDeliveryJobId,
  type ReauthEvent,
  type ReauthDeliveryJob,
  type MailEvent,
  type DeliveryJob,
  type BurstSummaryJob,
  withoutContent,
} from './mail-event';
export { JOB_DEFAULTS, DEDUP_TTL_MS, dedupJobOptions } from './job-defaults';
export { createBullConnection } from './bullmq-connection';
export { MailEventsProducer, type MailEventsJobData, type MailEventsJobName } from './mail-events.producer';
