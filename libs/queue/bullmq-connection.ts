import type { RedisTarget } from '@mailpush/config';
import { createRedisConnection, type Redis } from '@mailpush/store';

/** BullMQ needs its own connections; blocking workers require maxRetriesPerRequest: null. */
export function createBullConnection(target: RedisTarget): Redis {
  return createRedisConnection(target, 'queue');
}
