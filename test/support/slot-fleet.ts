import { Redis } from 'ioredis';
import { SlotOwnership, type ReleaseReason, type SlotHost } from '../../apps/worker/src/slot-ownership';
import { loadConfig } from '@mailpush/config';
import { AccountRepository, LeaseRepository, RedisKeys, WorkerMembership, slotOf, type Lease } from '@mailpush/store';
import { makeAdminToken, makeMasterKey } from './factories';

/**
 * Stands in for the IMAP watchers: reads the account's record (as the real supervisor does) and
 * records that the account is being watched, under which lease.
 */
export class WatchingStandIn implements SlotHost {
  readonly watching = new Map<string, Lease>();
  readonly released: { accountId: string; reason: ReleaseReason }[] = [];
  /** How many times an account started being watched here. */
  starts = 0;

  constructor(private readonly redis: Redis) {}

  async reconcile(accountId: string, lease: Lease): Promise<'exists' | 'gone'> {
    const record = await this.redis.hget(RedisKeys.account(accountId), 'status');
    if (record === null) {
      this.watching.delete(accountId);
      return 'gone';
    }
    if (record === 'disabled') this.watching.delete(accountId);
    else if (this.watching.get(accountId)?.holder !== lease.holder) {
      this.watching.set(accountId, lease);
      this.starts += 1;
    }
    return 'exists';
  }

  async release(accountId: string, reason: ReleaseReason): Promise<void> {
    if (this.watching.delete(accountId)) this.released.push({ accountId, reason });
  }
}

export interface FleetMember {
  id: string;
  redis: Redis;
  ownership: SlotOwnership;
  host: WatchingStandIn;
  stop(): Promise<void>;
  /** Stops without a word: no leave, no release (a crashed process, as far as Redis can tell). */
  crash(): Promise<void>;
}

export interface FleetSettings {
  leaseTtlMs: number;
  leaseMarginMs?: number;
  reconcileMs?: number;
}

/** A test configuration for repositories that need one (AccountRepository's cipher). */
export function testConfig(redisUrl: string) {
  return loadConfig({
    REDIS_URL: redisUrl,
    MAILPUSH_MASTER_KEY: makeMasterKey(),
    MAILPUSH_ADMIN_TOKEN: makeAdminToken(),
  });
}

/** One in-process worker's ownership over its own Redis connection, with a stand-in host. */
export async function startMember(
  redisUrl: string,
  id: string,
  settings: FleetSettings,
  connect: () => Redis = () => new Redis(redisUrl, { enableAutoPipelining: true, maxRetriesPerRequest: 3 }),
): Promise<FleetMember> {
  const redis = connect();
  redis.on('error', () => undefined);
  // As in the worker: leases and heartbeats on a connection of their own.
  const control = redis.duplicate();
  control.on('error', () => undefined);
  const host = new WatchingStandIn(redis);
  const ownership = new SlotOwnership(
    {
      workerId: id,
      leaseTtlMs: settings.leaseTtlMs,
      leaseMarginMs: settings.leaseMarginMs ?? Math.floor(settings.leaseTtlMs / 5),
      reconcileMs: settings.reconcileMs ?? 60_000,
    },
    control,
    new LeaseRepository(control),
    new AccountRepository(redis, testConfig(redisUrl)),
    new WorkerMembership(control),
    host,
  );
  await ownership.start();
  return {
    id,
    redis,
    ownership,
    host,
    async stop() {
      await ownership.stop();
      redis.disconnect();
      control.disconnect();
    },
    async crash() {
      ownership.halt();
      host.watching.clear();
      redis.disconnect();
      control.disconnect();
    },
  };
}

/**
 * Writes `count` minimal accounts straight into their slots (a million links through the API
 * would take hours): the record the stand-in reads, the slot set, the global set.
 */
export async function seedAccounts(redis: Redis, count: number, from = 0, batch = 5_000): Promise<string[]> {
  const ids: string[] = [];
  for (let start = from; start < from + count; start += batch) {
    const pipeline = redis.pipeline();
    for (let i = start; i < Math.min(from + count, start + batch); i++) {
      const id = `acc_${i.toString(16).padStart(24, '0')}`;
      ids.push(id);
      pipeline.hset(RedisKeys.account(id), 'id', id, 'status', 'idle');
      pipeline.sadd(RedisKeys.slotAccounts(slotOf(id)), id);
      pipeline.sadd(RedisKeys.allAccounts(), id);
    }
    await pipeline.exec();
  }
  await redis.set(RedisKeys.slotMigration(), 'seeded');
  return ids;
}

/** Who watches each account right now: account id → the members that watch it. */
export function watchers(members: readonly FleetMember[]): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  for (const m of members) {
    for (const id of m.host.watching.keys()) seen.set(id, [...(seen.get(id) ?? []), m.id]);
  }
  return seen;
}
