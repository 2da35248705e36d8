import { z } from 'zod';
import type {
  BurstSummaryJob,
  DeliveryBatchJob,
  DeliveryJob,
  MailEvent,
  ReauthDeliveryJob,
  ReauthEvent,
} from './mail-event';
import { JobName, QueueName } from './queue-names';

/** Every job the project queues: its name, the payload it carries. The one place they are paired. */
export interface JobPayloads {
  [JobName.NewMail]: MailEvent;
  [JobName.Reauth]: ReauthEvent;
  [JobName.Deliver]: DeliveryJob;
  [JobName.DeliverBatch]: DeliveryBatchJob;
  [JobName.DeliverBurstSummary]: BurstSummaryJob;
  [JobName.DeliverReauth]: ReauthDeliveryJob;
}

/** The queue each job travels on. */
export const JOB_QUEUE = {
  [JobName.NewMail]: QueueName.MailEvents,
  [JobName.Reauth]: QueueName.MailEvents,
  [JobName.Deliver]: QueueName.Deliveries,
  [JobName.DeliverBatch]: QueueName.Deliveries,
  [JobName.DeliverBurstSummary]: QueueName.Deliveries,
  [JobName.DeliverReauth]: QueueName.Deliveries,
} as const satisfies Record<JobName, QueueName>;

/** The job names of one queue. */
export type JobsOf<Q extends QueueName> = {
  [J in JobName]: (typeof JOB_QUEUE)[J] extends Q ? J : never;
}[JobName];

export function jobsOf<Q extends QueueName>(queue: Q): JobsOf<Q>[] {
  return Object.values(JobName).filter((name): name is JobsOf<Q> => JOB_QUEUE[name] === queue);
}

const id = z.string().min(1).max(200);
const count = z.number().int().nonnegative();

const mailEvent = z.object({
  accountId: id,
  userId: id,
  uidValidity: count,
  uid: count,
  messageKey: id,
  from: z.object({ name: z.string().optional(), address: z.string().optional() }).optional(),
  subject: z.string().optional(),
  date: z.string().optional(),
  detectedAt: z.number(),
  arrivedAt: z.number().optional(),
  summary: z.object({ count, firstUid: count }).optional(),
  unseen: count.optional(),
});

const reauthEvent = z.object({
  accountId: id,
  userId: id,
  credentialsVersion: count,
  code: z.string().max(100),
  detectedAt: z.number(),
});

/**
 * Job data comes back from Redis, where anything with access could have written it: each
 * consumer parses it against its job's schema before a handler sees it.
 */
const JOB_SCHEMAS: { [J in JobName]: z.ZodType<JobPayloads[J]> } = {
  [JobName.NewMail]: mailEvent,
  [JobName.Reauth]: reauthEvent,
  [JobName.Deliver]: z.object({ event: mailEvent, deviceId: id }),
  [JobName.DeliverBatch]: z.object({ event: mailEvent, deviceIds: z.array(id).min(1).max(1000) }),
  [JobName.DeliverBurstSummary]: z.object({ userId: id, deviceId: id, windowStart: z.number() }),
  [JobName.DeliverReauth]: z.object({ event: reauthEvent, deviceId: id }),
};

/** The schema a job's data is checked against, for stores that keep job data (dead letters). */
export function jobDataSchema<J extends JobName>(name: J): z.ZodType<JobPayloads[J]> {
  return JOB_SCHEMAS[name];
}

export function parseJobData<J extends JobName>(name: J, data: unknown): JobPayloads[J] {
  return JOB_SCHEMAS[name].parse(data);
}
