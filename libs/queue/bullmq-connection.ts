import { Redis, type RedisOptions } from 'ioredis';

/**
 * BullMQ needs its own connections; blocking workers require maxRetriesPerRequest: null.
 * `extra`: the TLS options (redisTlsOptions in libs/store).
 */
export function createBullConnection(redisUrl: string, extra: Pick<RedisOptions, 'tls'> = {}): Redis {
  return new Redis(redisUrl, { maxRetriesPerRequest: null, enableReadyCheck: true, ...extra });
}
