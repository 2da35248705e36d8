export { QueueName, JobName } from './queue-names';
export {
  messageKey,
  summaryKey,
  deliveryJobId,
  deliveryBatchJobId,
  burstSummaryJobId,
  reauthKey,
  reauthDeliveryJobId,
  type ReauthEvent,
  type ReauthDeliveryJob,
  type MailEvent,
  type DeliveryJob,
  type DeliveryBatchJob,
  type BurstSummaryJob,
  withoutContent,
} from './mail-event';
export { JOB_DEFAULTS, DEDUP_TTL_MS, dedupJobOptions, jobDefaults } from './job-defaults';
export { JOB_QUEUE, jobsOf, jobDataSchema, parseJobData, type JobPayloads, type JobsOf } from './job-payloads';
export {
  QueueRegistry,
  JobProducer,
  JobHandlerError,
  InvalidJobDataError,
  checkHandlers,
  routeJob,
  type JobHandlers,
  type JobSpec,
  type AnyJobQueue,
  type ConsumerOptions,
} from './queue-registry';
export { MailEventsProducer } from './mail-events.producer';
