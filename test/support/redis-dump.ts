import type { Redis } from 'ioredis';

export interface DumpedKey {
  key: string;
  type: string;
  /** The key name and every value it holds, as text (binary as latin1), for searching. */
  text: string;
}

/** Every key in the Redis with everything it holds: what an operator with Redis access sees. */
export async function dumpRedis(redis: Redis): Promise<DumpedKey[]> {
  const out: DumpedKey[] = [];
  const stream = redis.scanStream({ count: 1000 });
  for await (const keys of stream as AsyncIterable<string[]>) {
    for (const key of keys) {
      const type = await redis.type(key);
      let values: unknown;
      switch (type) {
        case 'string':
          values = (await redis.getBuffer(key))?.toString('latin1');
          break;
        case 'hash':
          values = await redis.hgetall(key);
          break;
        case 'list':
          values = await redis.lrange(key, 0, -1);
          break;
        case 'set':
          values = await redis.smembers(key);
          break;
        case 'zset':
          values = await redis.zrange(key, '0', '-1', 'WITHSCORES');
          break;
        case 'stream':
          values = await redis.xrange(key, '-', '+');
          break;
        default:
          values = `[${type}]`;
      }
      out.push({ key, type, text: `${key}\n${JSON.stringify(values)}` });
    }
  }
  return out;
}

/** The keys whose name or content holds any of `needles`, with the needle found. */
export function keysHolding(dump: DumpedKey[], needles: string[]): { key: string; needle: string }[] {
  const found: { key: string; needle: string }[] = [];
  for (const entry of dump) {
    for (const needle of needles) if (needle && entry.text.includes(needle)) found.push({ key: entry.key, needle });
  }
  return found;
}
