export { QueueName, JobName } from './queue-names';
export { messageKey, summaryKey, deliveryJobId, type MailEvent, type DeliveryJob } from './mail-event';
export { JOB_DEFAULTS } from './job-defaults';
export { createBullConnection } from './bullmq-connection';
export { MailEventsProducer } from './mail-events.producer';
