import { Injectable } from '@nestjs/common';
import { Job } from 'bullmq';
import { DeadLetterRepository, type DeadLetter } from '@mailpush/delivery';
import { JobName, QueueName, QueueRegistry, dedupJobOptions, type JobProducer } from '@mailpush/queue';

/** What an operator sees of a dead letter: ids, codes and counts; never sender, subject or token. */
export interface DeadLetterView {
  id: string;
  jobId: string;
  kind: 'message' | 'burst_summary';
  userId: string;
  deviceId: string;
  platform?: string;
  accountId?: string;
  messageKey?: string;
  error: DeadLetter['error'];
  attempts: number;
  failedAt: string;
}

export type ReplayResult =
  { status: 'requeued' | 'already_pending' | 'already_delivered'; jobId: string } | { status: 'not_found' };

function view(d: DeadLetter): DeadLetterView {
  const message = d.jobName === JobName.Deliver ? d.data.event : undefined;
  return {
    id: d.id,
    jobId: d.jobId,
    kind: d.jobName === JobName.Deliver ? 'message' : 'burst_summary',
    userId: d.userId,
    deviceId: d.deviceId,
    ...(d.platform ? { platform: d.platform } : {}),
    ...(message ? { accountId: message.accountId, messageKey: message.messageKey } : {}),
    error: d.error,
    attempts: d.attempts,
    failedAt: d.failedAt,
  };
}

@Injectable()
export class DeadLettersService {
  private readonly deliveries: JobProducer<QueueName.Deliveries>;

  constructor(
    private readonly letters: DeadLetterRepository,
    queues: QueueRegistry,
  ) {
    this.deliveries = queues.producer(QueueName.Deliveries);
  }

  async list(limit: number): Promise<DeadLetterView[]> {
    return (await this.letters.list(limit)).map(view);
  }

  /**
   * Runs a dead delivery again under its original job id, so a replay can never deliver twice: the
   * failed job is retried with fresh attempts, or re-added if BullMQ has already dropped it.
   */
  async replay(id: string): Promise<ReplayResult> {
    const letter = await this.letters.find(id);
    if (!letter) return { status: 'not_found' };
    const job = await Job.fromId(this.deliveries.queue, letter.jobId);
    let status: 'requeued' | 'already_pending' | 'already_delivered' = 'requeued';
    if (!job) {
      // The failed job was removed with its content; its dedup key would swallow the re-add.
      await this.deliveries.queue.removeDeduplicationKey(letter.jobId);
      const opts = dedupJobOptions(letter.jobId);
      if (letter.jobName === JobName.Deliver) await this.deliveries.add(JobName.Deliver, letter.data, opts);
      else await this.deliveries.add(JobName.DeliverBurstSummary, letter.data, opts);
    } else {
      const state = await job.getState();
      if (state === 'failed') await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
      else status = state === 'completed' ? 'already_delivered' : 'already_pending';
    }
    await this.letters.remove(id);
    return { status, jobId: letter.jobId };
  }
}
