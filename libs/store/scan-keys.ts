import type { Cluster } from 'ioredis';
import { isCluster, type Redis } from './redis.provider';

/**
 * Every key matching `match`, by SCAN (never KEYS): on a Redis Cluster, each primary's keyspace in
 * turn (a Cluster client has no keyspace-wide SCAN). A key may be yielded twice; callers are idempotent.
 */
export async function* scanKeys(redis: Redis, match: string, count = 1000): AsyncGenerator<string> {
  const nodes = isCluster(redis) ? (redis as unknown as Cluster).nodes('master') : [redis];
  for (const node of nodes) {
    for await (const keys of node.scanStream({ match, count }) as AsyncIterable<string[]>) yield* keys;
  }
}
