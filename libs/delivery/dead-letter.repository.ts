import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { ClassifiedError } from '@mailpush/errors';
import type { BurstSummaryJob, DeliveryJob, JobName } from '@mailpush/queue';
import { REDIS, RedisKeys, RedisScript } from '@mailpush/store';

/** Newest first; older entries fall off (their BullMQ jobs stay in the failed set for 14 days). */
export const DEAD_LETTER_MAX = 1000;

/** The job to run again on replay. Holds the device id, never the device token. */
export type DeadLetterJob =
  { jobName: JobName.Deliver; data: DeliveryJob } | { jobName: JobName.DeliverBurstSummary; data: BurstSummaryJob };

export type DeadLetter = DeadLetterJob & {
  id: string;
  jobId: string;
  userId: string;
  deviceId: string;
  platform?: string;
  /** Sanitized: class, code and fixed words, never a push service's raw answer. */
  error: Pick<ClassifiedError, 'errorClass' | 'code' | 'message'>;
  attempts: number;
  failedAt: string;
};

export type NewDeadLetter = Omit<DeadLetter, 'id'>;

/** Removes one dead letter by id; true when it was there. */
const REMOVE = new RedisScript(__dirname, 'dead-letter-remove', 1, (reply) => reply.oneOf([0, 1]) === 1);

/** Deliveries that exhausted their attempts, for the admin API to list and replay. */
@Injectable()
export class DeadLetterRepository {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async add(entry: NewDeadLetter): Promise<DeadLetter> {
    const letter = { ...entry, id: `dl_${randomBytes(10).toString('hex')}` } as DeadLetter;
    await this.redis
      .multi()
      .lpush(RedisKeys.deadLetters(), JSON.stringify(letter))
      .ltrim(RedisKeys.deadLetters(), 0, DEAD_LETTER_MAX - 1)
      .exec();
    return letter;
  }

  async count(): Promise<number> {
    return this.redis.llen(RedisKeys.deadLetters());
  }

  async list(limit = DEAD_LETTER_MAX): Promise<DeadLetter[]> {
    const raw = await this.redis.lrange(RedisKeys.deadLetters(), 0, Math.max(0, limit - 1));
    return raw.map(parse).filter((d): d is DeadLetter => d !== undefined);
  }

  async find(id: string): Promise<DeadLetter | undefined> {
    return (await this.list()).find((d) => d.id === id);
  }

  /** Drops every dead letter of a user (erasure); returns how many. */
  async removeForUser(userId: string): Promise<number> {
    let removed = 0;
    for (const raw of await this.redis.lrange(RedisKeys.deadLetters(), 0, -1)) {
      const letter = parse(raw);
      if (letter?.userId === userId) removed += await this.redis.lrem(RedisKeys.deadLetters(), 1, raw);
    }
    return removed;
  }

  async remove(id: string): Promise<boolean> {
    return REMOVE.run(this.redis, [RedisKeys.deadLetters()], [id]);
  }
}

function parse(raw: string): DeadLetter | undefined {
  try {
    const value = JSON.parse(raw) as Partial<DeadLetter>;
    return typeof value.id === 'string' && typeof value.jobId === 'string' ? (value as DeadLetter) : undefined;
  } catch {
    return undefined;
  }
}
