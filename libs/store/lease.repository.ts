import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { LuaScript } from './lua-script';
import { REDIS, isCluster } from './redis.provider';
import { RedisKeys } from './redis-keys';
import { slotOf } from './slots';

/** A slot held by one worker. */
export interface SlotLease {
  slot: number;
  /** `<workerId>#<fence>`: the fence grows on every acquisition, so a stale holder can be told apart. */
  holder: string;
  fence: number;
}

/** An account's view of its slot's lease: what its cursor writes are fenced by. */
export interface Lease extends SlotLease {
  accountId: string;
}

export type SlotAcquisition = { acquired: true; lease: SlotLease } | { acquired: false; holder: string; ttlMs: number };

const ACQUIRE = new LuaScript(`
local cur = redis.call('GET', KEYS[1])
if cur then return {0, cur, redis.call('PTTL', KEYS[1])} end
local fence = redis.call('INCR', KEYS[2])
local holder = ARGV[1] .. '#' .. fence
redis.call('SET', KEYS[1], holder, 'PX', ARGV[2])
return {1, holder, tonumber(ARGV[2])}`);

/** KEYS: lease keys; ARGV[1]: ttl, ARGV[1 + i]: the holder expected in KEYS[i]. One answer per key. */
const RENEW = new LuaScript(`
local out = {}
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[i + 1] then
    redis.call('PEXPIRE', key, ARGV[1])
    out[i] = 1
  else
    out[i] = 0
  end
end
return out`);

const RELEASE = new LuaScript(
  `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`,
);

function fenceOf(holder: string): number {
  return Number(holder.slice(holder.lastIndexOf('#') + 1));
}

/** Slot ownership: at most one worker holds a slot (and so its accounts' IMAP connections) at a time. */
@Injectable()
export class LeaseRepository {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  /** Takes the slot if it is free; otherwise says who holds it and for how much longer. */
  async acquireSlot(slot: number, workerId: string, ttlMs: number): Promise<SlotAcquisition> {
    const [ok, holder, ttl] = (await ACQUIRE.run(
      this.redis,
      [RedisKeys.slotLease(slot), RedisKeys.slotFence(slot)],
      [workerId, ttlMs],
    )) as [number, string, number];
    if (ok === 1) return { acquired: true, lease: { slot, holder, fence: fenceOf(holder) } };
    return { acquired: false, holder, ttlMs: Math.max(0, ttl) };
  }

  /**
   * Renews every given lease in one script call (Redis Cluster: one per slot, as each slot's keys
   * live on their own hash slot). Resolves with the leases still held; throws when Redis cannot
   * be reached (the caller cannot tell then, and must not treat it as lost).
   */
  async renewSlots(leases: readonly SlotLease[], ttlMs: number): Promise<boolean[]> {
    if (leases.length === 0) return [];
    if (isCluster(this.redis)) {
      const answers = await Promise.all(
        leases.map((l) => RENEW.run(this.redis, [RedisKeys.slotLease(l.slot)], [ttlMs, l.holder])),
      );
      return answers.map((a) => (a as number[])[0] === 1);
    }
    const answer = (await RENEW.run(
      this.redis,
      leases.map((l) => RedisKeys.slotLease(l.slot)),
      [ttlMs, ...leases.map((l) => l.holder)],
    )) as number[];
    return answer.map((a) => a === 1);
  }

  async releaseSlot(lease: SlotLease): Promise<void> {
    await RELEASE.run(this.redis, [RedisKeys.slotLease(lease.slot)], [lease.holder]);
  }

  async slotHolder(slot: number): Promise<string | null> {
    return this.redis.get(RedisKeys.slotLease(slot));
  }

  /** Takes the slot of one account (tools and specs that watch a single account). */
  async acquire(accountId: string, workerId: string, ttlMs: number): Promise<Lease | null> {
    const got = await this.acquireSlot(slotOf(accountId), workerId, ttlMs);
    return got.acquired ? { ...got.lease, accountId } : null;
  }

  async renew(lease: SlotLease, ttlMs: number): Promise<boolean> {
    return (await this.renewSlots([lease], ttlMs))[0] === true;
  }

  async isHeld(accountId: string): Promise<boolean> {
    return (await this.redis.exists(RedisKeys.lease(accountId))) === 1;
  }

  async release(lease: SlotLease): Promise<void> {
    await this.releaseSlot(lease);
  }
}
