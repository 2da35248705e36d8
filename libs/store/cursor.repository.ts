import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { Lease } from './lease.repository';
import type { MailboxCursor } from './models';
import { REDIS } from './redis.provider';
import { RedisKeys } from './redis-keys';

/**
 * Moves the cursor only while the caller still holds the lease, and only forward within a
 * UIDVALIDITY (or to a new UIDVALIDITY): a worker that lost its lease cannot rewind or skip.
 */
const ADVANCE = `
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return -1 end
local v = redis.call('HGET', KEYS[1], 'uidValidity')
local last = tonumber(redis.call('HGET', KEYS[1], 'lastUid') or '0')
if v == ARGV[2] and last >= tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], 'uidValidity', ARGV[2], 'lastUid', ARGV[3])
return 1`;

export type CursorWrite = 'advanced' | 'unchanged' | 'lease_lost';

@Injectable()
export class CursorRepository {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async get(accountId: string): Promise<MailboxCursor | null> {
    const [uidValidity, lastUid] = await this.redis.hmget(RedisKeys.cursor(accountId), 'uidValidity', 'lastUid');
    if (uidValidity === null || lastUid === null) return null;
    return { uidValidity: Number(uidValidity), lastUid: Number(lastUid) };
  }

  async advance(lease: Lease, cursor: MailboxCursor): Promise<CursorWrite> {
    const result = (await this.redis.eval(
      ADVANCE,
      2,
      RedisKeys.cursor(lease.accountId),
      RedisKeys.lease(lease.accountId),
      lease.holder,
      String(cursor.uidValidity),
      String(cursor.lastUid),
    )) as number;
    return result === 1 ? 'advanced' : result === 0 ? 'unchanged' : 'lease_lost';
  }
}
