import type { Redis } from 'ioredis';
import { RedisScript } from './redis-script';

/** A key (a lease, a lock) and the holder the caller believes is in it. */
export interface HeldKey {
  key: string;
  holder: string;
}

const RENEW = new RedisScript(__dirname, 'renew-if-holder', 'varying', (reply) =>
  reply.array().map((a) => a.oneOf([0, 1]) === 1),
);
const RELEASE = new RedisScript(__dirname, 'release-if-holder', 1, (reply) => reply.oneOf([0, 1]) === 1);

/**
 * Extends each key its holder still holds, in one script call: one answer per key, in order. On a
 * Redis Cluster the keys of one call must share a hash tag.
 */
export async function renewIfHolder(redis: Redis, held: readonly HeldKey[], ttlMs: number): Promise<boolean[]> {
  const renewed = await RENEW.run(
    redis,
    held.map((h) => h.key),
    [ttlMs, ...held.map((h) => h.holder)],
  );
  if (renewed.length !== held.length) throw new Error(`renew-if-holder answered ${renewed.length} of ${held.length}`);
  return renewed;
}

/** Deletes the key only while `holder` holds it; true when this call deleted it. */
export function releaseIfHolder(redis: Redis, key: string, holder: string): Promise<boolean> {
  return RELEASE.run(redis, [key], [holder]);
}
