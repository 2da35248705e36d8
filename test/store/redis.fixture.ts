import { after, before, beforeEach } from 'node:test';
import { Redis } from 'ioredis';
import { startRedis, type RedisHandle } from '../harness';

export interface RealRedis {
  readonly client: Redis;
  readonly url: string;
}

/**
 * A private redis-server for the calling spec file and a client on it, emptied before each test.
 * Call at the top of a `describe`.
 */
export function useRealRedis(): RealRedis {
  let server: RedisHandle | undefined;
  let client: Redis | undefined;
  before(async () => {
    server = await startRedis();
    client = new Redis(server.url, { maxRetriesPerRequest: 1 });
  });
  beforeEach(async () => {
    await client?.flushall();
  });
  after(async () => {
    await client?.quit();
    await server?.stop();
  });
  return {
    get client(): Redis {
      if (!client) throw new Error('the Redis fixture is used outside a test');
      return client;
    },
    get url(): string {
      if (!server) throw new Error('the Redis fixture is used outside a test');
      return server.url;
    },
  };
}
