import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { AccountOwnershipReader } from './account-ownership.reader';
import type { AccountStatus } from './models';
import { REDIS } from './redis.provider';
import { RedisKeys } from './redis-keys';

/** Statuses no worker holds: the person must act (new password) or chose to pause. */
const PARKED: ReadonlySet<string> = new Set<AccountStatus>(['disabled', 'auth_error']);
const BATCH = 500;

export interface Census {
  byStatus: Record<string, number>;
  /** Accounts that should be watched and that no worker holds. */
  unowned: number;
  total: number;
}

/**
 * Counts every account by status and the active ones nobody holds: SSCAN over the account set
 * and one auto-pipelined batch per 500 accounts (status + ownership), never one blocking call.
 */
@Injectable()
export class AccountCensus {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly ownership: AccountOwnershipReader,
  ) {}

  async take(): Promise<Census> {
    const census: Census = { byStatus: {}, unowned: 0, total: 0 };
    let cursor = '0';
    do {
      const [next, ids] = await this.redis.sscan(RedisKeys.allAccounts(), cursor, 'COUNT', BATCH);
      cursor = next;
      if (ids.length > 0) await this.count(ids, census);
    } while (cursor !== '0');
    return census;
  }

  private async count(ids: string[], census: Census): Promise<void> {
    // Auto-pipelined (the shared connection batches them): an explicit pipeline cannot span the
    // hash slots of a Redis Cluster.
    const statuses = (await Promise.all(ids.map((id) => this.redis.hget(RedisKeys.account(id), 'status')))).map((s) =>
      typeof s === 'string' ? s : undefined,
    );
    const active = ids.filter((_, i) => statuses[i] !== undefined && !PARKED.has(statuses[i]));
    const held = await this.ownership.held(active);
    for (const status of statuses) {
      if (status === undefined) continue;
      census.byStatus[status] = (census.byStatus[status] ?? 0) + 1;
      census.total += 1;
    }
    census.unowned += held.filter((h) => !h).length;
  }
}
