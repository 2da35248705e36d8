import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { Lease } from './lease.repository';
import type { MailboxCursor, PendingSummary } from './models';
import { REDIS } from './redis.provider';
import { RedisKeys } from './redis-keys';
import { RedisScript } from './redis-script';

const SUMMARY_FIELDS = [
  'summaryUidValidity',
  'summaryFirstUid',
  'summaryLastUid',
  'summaryCount',
  'summaryCoversUpTo',
] as const;

export type CursorWrite = 'advanced' | 'unchanged' | 'lease_lost' | 'account_gone';

/**
 * Moves the cursor only while the caller still holds the lease, and only forward within a
 * UIDVALIDITY (or to a new UIDVALIDITY): a worker that lost its lease cannot rewind or skip.
 * Moving past a reserved summary clears the reservation (advance-cursor.lua names SUMMARY_FIELDS).
 * Never for an account whose record is gone: a watcher still fetching when the account (or its
 * user) was deleted cannot leave a cursor behind.
 */
const ADVANCE = new RedisScript(__dirname, 'advance-cursor', 3, (reply): CursorWrite => {
  const outcomes = { 1: 'advanced', 0: 'unchanged', [-1]: 'lease_lost', [-2]: 'account_gone' } as const;
  return outcomes[reply.oneOf([1, 0, -1, -2])];
});

/** Records a summary about to be published, under the same lease check as an advance. */
const RESERVE_SUMMARY = new RedisScript(__dirname, 'reserve-summary', 3, (reply): CursorWrite => {
  const outcomes = { 1: 'advanced', [-1]: 'lease_lost', [-2]: 'account_gone' } as const;
  return outcomes[reply.oneOf([1, -1, -2])];
});

/** KEYS of both scripts: the account's cursor, its slot's lease and its record (one slot tag). */
function cursorKeys(accountId: string): string[] {
  return [RedisKeys.cursor(accountId), RedisKeys.lease(accountId), RedisKeys.account(accountId)];
}

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

  reserveSummary(lease: Lease, summary: PendingSummary): Promise<CursorWrite> {
    return RESERVE_SUMMARY.run(this.redis, cursorKeys(lease.accountId), [
      lease.holder,
      summary.uidValidity,
      summary.firstUid,
      summary.lastUid,
      summary.count,
      summary.coversUpTo,
    ]);
  }

  advance(lease: Lease, cursor: MailboxCursor): Promise<CursorWrite> {
    return ADVANCE.run(this.redis, cursorKeys(lease.accountId), [lease.holder, cursor.uidValidity, cursor.lastUid]);
  }
}
