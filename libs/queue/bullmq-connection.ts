import type { RedisTarget } from '../config';
import { createRedisConnection, type Redis } from '../store';

/** BullMQ needs its own connections; blocking workers require maxRetriesPerRequest: null. */
export function createBullConnection(target: RedisTarget): Redis {
  return createRedisConnection(target, 'queue');
}
