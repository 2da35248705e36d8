import assert from 'node:assert/strict';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { QueueName } from '@mailpush/queue';
import { eventually } from '../harness';

/** Waits until no job is waiting, active, delayed or prioritized in either mailpush queue. */
export async function waitForQueuesDrained(connection: Redis, timeoutMs = 20_000, prefix = 'mailpush'): Promise<void> {
  const queues = [QueueName.MailEvents, QueueName.Deliveries].map((name) => new Queue(name, { connection, prefix }));
  try {
    await eventually(
      async () => {
        for (const q of queues) {
          const counts = await q.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children');
          const pending = Object.values(counts).reduce((a, b) => a + b, 0);
          assert.equal(pending, 0, `${q.name} not drained: ${JSON.stringify(counts)}`);
        }
      },
      { timeoutMs },
    );
  } finally {
    await Promise.all(queues.map((q) => q.close()));
  }
}
