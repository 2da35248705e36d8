import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { Lease } from './lease.repository';
import type { MailboxCursor, PendingSummary } from './models';
import { REDIS } from './redis.provider';
import { RedisKeys } from './redis-keys';

const SUMMARY_FIELDS = [
  'summaryUidValidity',
  'summaryFirstUid',
  'summaryLastUid',
  'summaryCount',
  'summaryCoversUpTo',
] as const;

/**
 * Moves the cursor only while the caller still holds the lease, and only forward within a
 * UIDVALIDITY (or to a new UIDVALIDITY): a worker that lost its lease cannot rewind or skip.
 * Moving past a reserved summary clears the reservation. Never for an account whose record is
 * gone (KEYS[3], same slot tag): a watcher still fetching when the account (or its user) was
 * deleted cannot leave a cursor behind.
 */
const ADVANCE = `
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return -1 end
if redis.call('EXISTS', KEYS[3]) == 0 then return -2 end
local v = redis.call('HGET', KEYS[1], 'uidValidity')
local last = tonumber(redis.call('HGET', KEYS[1], 'lastUid') or '0')
if v == ARGV[2] and last >= tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], 'uidValidity', ARGV[2], 'lastUid', ARGV[3])
local upTo = tonumber(redis.call('HGET', KEYS[1], 'summaryCoversUpTo') or '-1')
if redis.call('HGET', KEYS[1], 'summaryUidValidity') ~= ARGV[2] or upTo <= tonumber(ARGV[3]) then
  redis.call('HDEL', KEYS[1], ${SUMMARY_FIELDS.map((f) => `'${f}'`).join(', ')})
end
return 1`;

/** Records a summary about to be published, under the same lease check as an advance. */
const RESERVE_SUMMARY = `
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return -1 end
if redis.call('EXISTS', KEYS[3]) == 0 then return -2 end
redis.call('HSET', KEYS[1], 'summaryUidValidity', ARGV[2], 'summaryFirstUid', ARGV[3], 'summaryLastUid', ARGV[4], 'summaryCount', ARGV[5], 'summaryCoversUpTo', ARGV[6])
return 1`;

export type CursorWrite = 'advanced' | 'unchanged' | 'lease_lost' | 'account_gone';

@Injectable()
export class CursorRepository {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async get(accountId: string): Promise<MailboxCursor | null> {
    const [uidValidity, lastUid, ...summary] = await this.redis.hmget(
      RedisKeys.cursor(accountId),
      'uidValidity',
      'lastUid',
      ...SUMMARY_FIELDS,
    );
    if (uidValidity === null || lastUid === null) return null;
    const cursor: MailboxCursor = { uidValidity: Number(uidValidity), lastUid: Number(lastUid) };
    const [sv, first, last, count, upTo] = summary.map(Number);
    if (
      summary.every((v) => v !== null) &&
      sv !== undefined &&
      first !== undefined &&
      last !== undefined &&
      count !== undefined &&
      upTo !== undefined
    ) {
      cursor.pendingSummary = { uidValidity: sv, firstUid: first, lastUid: last, count, coversUpTo: upTo };
    }
    return cursor;
  }

  async reserveSummary(lease: Lease, summary: PendingSummary): Promise<CursorWrite> {
    const result = (await this.redis.eval(
      RESERVE_SUMMARY,
      3,
      RedisKeys.cursor(lease.accountId),
      RedisKeys.lease(lease.accountId),
      RedisKeys.account(lease.accountId),
      lease.holder,
      ...[summary.uidValidity, summary.firstUid, summary.lastUid, summary.count, summary.coversUpTo].map(String),
    )) as number;
    return result === 1 ? 'advanced' : result === -2 ? 'account_gone' : 'lease_lost';
  }

  async advance(lease: Lease, cursor: MailboxCursor): Promise<CursorWrite> {
    const result = (await this.redis.eval(
      ADVANCE,
      3,
      RedisKeys.cursor(lease.accountId),
      RedisKeys.lease(lease.accountId),
      RedisKeys.account(lease.accountId),
      lease.holder,
      String(cursor.uidValidity),
      String(cursor.lastUid),
    )) as number;
    return result === 1 ? 'advanced' : result === 0 ? 'unchanged' : result === -2 ? 'account_gone' : 'lease_lost';
  }
}
