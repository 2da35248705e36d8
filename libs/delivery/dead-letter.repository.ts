import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { ErrorClass, ErrorCode, isNamedErrorCode, type ClassifiedError } from '@mailpush/errors';
import { createLogger } from '@mailpush/logging';
import { JobName, jobDataSchema, type BurstSummaryJob, type DeliveryJob } from '@mailpush/queue';
import { REDIS, RedisKeys, RedisScript, readStoredJson } from '@mailpush/store';

const log = createLogger('dead-letters');

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

/** A dead letter before it has its id (per job kind, so a job name stays paired with its data). */
export type NewDeadLetter = DeadLetter extends infer D ? (D extends unknown ? Omit<D, 'id'> : never) : never;

const isErrorCode = (value: string): value is ErrorCode => isNamedErrorCode(value) || /^http_\d+$/.test(value);

/** Letters written before the code vocabulary may hold a code it no longer has: kept, as unknown_error. */
const storedErrorCode = z.string().transform((code): ErrorCode => (isErrorCode(code) ? code : ErrorCode.UnknownError));

/** What `add` writes; anything else in the list (corrupt, or written by something else) is skipped. */
const deadLetterSchema: z.ZodType<DeadLetter> = z.intersection(
  z.discriminatedUnion('jobName', [
    z.object({ jobName: z.literal(JobName.Deliver), data: jobDataSchema(JobName.Deliver) }),
    z.object({ jobName: z.literal(JobName.DeliverBurstSummary), data: jobDataSchema(JobName.DeliverBurstSummary) }),
  ]),
  z.object({
    id: z.string(),
    jobId: z.string(),
    userId: z.string(),
    deviceId: z.string(),
    platform: z.string().optional(),
    error: z.object({ errorClass: z.enum(ErrorClass), code: storedErrorCode, message: z.string() }),
    attempts: z.number(),
    failedAt: z.string(),
  }),
);

const ownerSchema = z.object({ userId: z.string() });

/** Removes one dead letter by id; true when it was there. */
const REMOVE = new RedisScript(__dirname, 'dead-letter-remove', 1, (reply) => reply.oneOf([0, 1]) === 1);

/** Deliveries that exhausted their attempts, for the admin API to list and replay. */
@Injectable()
export class DeadLetterRepository {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async add(entry: NewDeadLetter): Promise<DeadLetter> {
    const letter: DeadLetter = { ...entry, id: `dl_${randomBytes(10).toString('hex')}` };
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
    const letters = raw.map(parse).filter((d): d is DeadLetter => d !== undefined);
    // Counted, never shown: an entry may be anything, the reason it is unreadable included.
    if (letters.length < raw.length)
      log.warn('unreadable dead letters skipped', { skipped: raw.length - letters.length });
    return letters;
  }

  async find(id: string): Promise<DeadLetter | undefined> {
    return (await this.list()).find((d) => d.id === id);
  }

  /** Drops every dead letter of a user (erasure); returns how many. */
  async removeForUser(userId: string): Promise<number> {
    let removed = 0;
    for (const raw of await this.redis.lrange(RedisKeys.deadLetters(), 0, -1)) {
      // Any entry naming the user goes, a letter that no longer reads as a whole included.
      if (readStoredJson(ownerSchema, raw)?.userId === userId)
        removed += await this.redis.lrem(RedisKeys.deadLetters(), 1, raw);
    }
    return removed;
  }

  async remove(id: string): Promise<boolean> {
    return REMOVE.run(this.redis, [RedisKeys.deadLetters()], [id]);
  }
}

function parse(raw: string): DeadLetter | undefined {
  return readStoredJson(deadLetterSchema, raw);
}
