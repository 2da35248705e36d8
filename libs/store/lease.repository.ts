import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { releaseIfHolder, renewIfHolder } from './held-key';
import { REDIS, isCluster } from './redis.provider';
import { RedisKeys } from './redis-keys';
import { RedisScript } from './redis-script';
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

/** Taken, or held by another: the holder either way, and its time left (ms). */
const ACQUIRE = new RedisScript(__dirname, 'acquire-slot', 2, (reply) => {
  const [taken, holder, ttl] = reply.array(3);
  const fence = fenceOf(holder.string());
  if (fence === undefined) return holder.fail('a holder `<worker>#<fence>`');
  return { taken: taken.oneOf([0, 1]) === 1, holder: holder.string(), fence, ttlMs: ttl.integer() };
});

function fenceOf(holder: string): number | undefined {
  const fence = Number(holder.slice(holder.lastIndexOf('#') + 1));
  return Number.isSafeInteger(fence) && fence > 0 ? fence : undefined;
}

/** Slot ownership: at most one worker holds a slot (and so its accounts' IMAP connections) at a time. */
@Injectable()
export class LeaseRepository {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  /** Takes the slot if it is free; otherwise says who holds it and for how much longer. */
  async acquireSlot(slot: number, workerId: string, ttlMs: number): Promise<SlotAcquisition> {
    const got = await ACQUIRE.run(
      this.redis,
      [RedisKeys.slotLease(slot), RedisKeys.slotFence(slot)],
      [workerId, ttlMs],
    );
    if (got.taken) return { acquired: true, lease: { slot, holder: got.holder, fence: got.fence } };
    return { acquired: false, holder: got.holder, ttlMs: Math.max(0, got.ttlMs) };
  }

  /**
   * Renews every given lease in one script call (Redis Cluster: one per slot, as each slot's keys
   * live on their own hash slot). Resolves with the leases still held; throws when Redis cannot
   * be reached (the caller cannot tell then, and must not treat it as lost).
   */
  async renewSlots(leases: readonly SlotLease[], ttlMs: number): Promise<boolean[]> {
    if (leases.length === 0) return [];
    const held = leases.map((l) => ({ key: RedisKeys.slotLease(l.slot), holder: l.holder }));
    if (isCluster(this.redis)) {
      const answers = await Promise.all(held.map((h) => renewIfHolder(this.redis, [h], ttlMs)));
      return answers.map((a) => a[0] === true);
    }
    return renewIfHolder(this.redis, held, ttlMs);
  }

  async releaseSlot(lease: SlotLease): Promise<void> {
    await releaseIfHolder(this.redis, RedisKeys.slotLease(lease.slot), lease.holder);
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
