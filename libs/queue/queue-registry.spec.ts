import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JOB_QUEUE, jobsOf, parseJobData } from './job-payloads';
import { JobName, QueueName } from './queue-names';
import { JobHandlerError, checkHandlers } from './queue-registry';

const event = {
  accountId: 'acc_1',
  userId: 'usr_1',
  uidValidity: 7,
  uid: 42,
  messageKey: 'acc_1.7.42',
  subject: 'Hello',
  detectedAt: 1_700_000_000_000,
};

describe('queue registry', () => {
  it('puts every job name on exactly one queue, each queue with at least one job', () => {
    const all = Object.values(QueueName).flatMap((q) => jobsOf(q));
    assert.deepEqual([...all].sort(), Object.values(JobName).sort());
    for (const q of Object.values(QueueName)) assert.ok(jobsOf(q).length > 0, q);
    for (const name of Object.values(JobName))
      assert.equal(jobsOf(JOB_QUEUE[name]).filter((n) => n === name).length, 1);
  });

  it('accepts a consumer that handles exactly its queue’s jobs', () => {
    assert.doesNotThrow(() => checkHandlers(QueueName.MailEvents, [JobName.NewMail, JobName.Reauth], new Set()));
    assert.doesNotThrow(() => checkHandlers(QueueName.Deliveries, jobsOf(QueueName.Deliveries), new Set()));
  });

  it('refuses at boot a consumer that leaves a job unhandled, naming it', () => {
    assert.throws(
      () =>
        checkHandlers(QueueName.Deliveries, [JobName.Deliver, JobName.DeliverBatch, JobName.DeliverReauth], new Set()),
      (err: unknown) =>
        err instanceof JobHandlerError &&
        err.message === `queue "deliveries": no handler for ${JobName.DeliverBurstSummary}`,
    );
  });

  it('refuses a handler for another queue’s job, and a second handler for a job', () => {
    assert.throws(
      () => checkHandlers(QueueName.MailEvents, [JobName.NewMail, JobName.Reauth, JobName.Deliver], new Set()),
      /queue "mail-events": handlers for jobs of other queues: deliver$/,
    );
    assert.throws(
      () => checkHandlers(QueueName.MailEvents, [JobName.NewMail, JobName.Reauth], new Set([JobName.Reauth])),
      /queue "mail-events": a second handler for reauth$/,
    );
  });

  it('validates payloads read back from Redis against their job’s schema', () => {
    assert.deepEqual(parseJobData(JobName.NewMail, event), event);
    assert.deepEqual(parseJobData(JobName.DeliverBatch, { event, deviceIds: ['dev_1', 'dev_2'] }), {
      event,
      deviceIds: ['dev_1', 'dev_2'],
    });
    assert.throws(() => parseJobData(JobName.NewMail, { ...event, uid: '42' }));
    assert.throws(() => parseJobData(JobName.DeliverBatch, { event, deviceIds: [] }), 'a batch names its devices');
    assert.throws(() => parseJobData(JobName.Deliver, { event }), 'a delivery names its device');
    assert.throws(() => parseJobData(JobName.Reauth, null));
  });
});
