import { Redis } from 'ioredis';

/** BullMQ needs its own connections; blocking workers require maxRetriesPerRequest: null. */
export function createBullConnection(redisUrl: string): Redis {
  return new Redis(redisUrl, { maxRetriesPerRequest: null, enableReadyCheck: true });
}
