import type { Redis } from 'ioredis';

export type QuotaKind = 'mailboxes' | 'devices';

/** A user already holds as many mailboxes (or devices) as the operator allows. */
export class QuotaExceededError extends Error {
  override name = 'QuotaExceededError';
  readonly code: string;

  constructor(
    readonly kind: QuotaKind,
    readonly limit: number,
  ) {
    super(
      kind === 'mailboxes'
        ? `This user already has ${limit} mailboxes linked, the most this relay allows; remove one first`
        : `This user already has ${limit} devices registered, the most this relay allows; remove one first`,
    );
    this.code = kind === 'mailboxes' ? 'mailbox_limit_reached' : 'device_limit_reached';
  }
}

/** The user was deleted while something was being created for them. */
export class OwnerGoneError extends Error {
  override name = 'OwnerGoneError';
}

/**
 * Adds `member` to a user's set only while the user exists and holds fewer than `max` members:
 * two concurrent creates cannot both take the last place. -1: no such user; 0: full; 1: added
 * (or already a member).
 */
const RESERVE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then return 1 end
if redis.call('SCARD', KEYS[2]) >= tonumber(ARGV[2]) then return 0 end
redis.call('SADD', KEYS[2], ARGV[1])
return 1`;

export async function reserveQuotaPlace(
  redis: Redis,
  keys: { user: string; set: string },
  member: string,
  quota: { kind: QuotaKind; max: number },
): Promise<void> {
  const result = await redis.eval(RESERVE, 2, keys.user, keys.set, member, String(quota.max));
  if (result === -1) throw new OwnerGoneError('the user no longer exists');
  if (result === 0) throw new QuotaExceededError(quota.kind, quota.max);
}
