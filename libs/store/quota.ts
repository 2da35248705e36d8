import type { Redis } from 'ioredis';
import { ErrorCode } from '@mailpush/errors';
import { RedisKeys } from './redis-keys';
import { RedisScript } from './redis-script';

export type QuotaKind = 'mailboxes' | 'devices';

/** A user already holds as many mailboxes (or devices) as the operator allows. */
export class QuotaExceededError extends Error {
  override name = 'QuotaExceededError';
  readonly code: typeof ErrorCode.MailboxLimitReached | typeof ErrorCode.DeviceLimitReached;

  constructor(
    readonly kind: QuotaKind,
    readonly limit: number,
  ) {
    super(
      kind === 'mailboxes'
        ? `This user already has ${limit} mailboxes linked, the most this relay allows; remove one first`
        : `This user already has ${limit} devices registered, the most this relay allows; remove one first`,
    );
    this.code = kind === 'mailboxes' ? ErrorCode.MailboxLimitReached : ErrorCode.DeviceLimitReached;
  }
}

/** The user was deleted while something was being created for them. */
export class OwnerGoneError extends Error {
  override name = 'OwnerGoneError';
}

/**
 * Adds `member` to a user's set only while it holds fewer than `max` members: two concurrent
 * creates cannot both take the last place. One key (Redis Cluster: the user record and the set
 * are in different hash slots), so whether the user still exists is checked around it by the
 * caller ({@link assertOwnerExists}). False when full.
 */
const RESERVE = new RedisScript(__dirname, 'reserve-quota-place', 1, (reply) => reply.oneOf([0, 1]) === 1);

export async function reserveQuotaPlace(
  redis: Redis,
  set: string,
  member: string,
  quota: { kind: QuotaKind; max: number },
): Promise<void> {
  if (!(await RESERVE.run(redis, [set], [member, quota.max]))) throw new QuotaExceededError(quota.kind, quota.max);
}

/**
 * Throws OwnerGoneError when the user record is gone. Creates call it before reserving and again
 * after writing: erasure deletes the user record first and reads the user's sets after, so a
 * create that still sees the user after writing is in the sets erasure reads, and one that does
 * not undoes itself.
 */
export async function assertOwnerExists(redis: Redis, userId: string): Promise<void> {
  if ((await redis.exists(RedisKeys.user(userId))) === 0) throw new OwnerGoneError('the user no longer exists');
}
