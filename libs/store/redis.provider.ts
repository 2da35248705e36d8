import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Redis, type RedisOptions } from 'ioredis';
import { APP_CONFIG, type AppConfig } from '../config';

export const REDIS = Symbol('REDIS');

/**
 * TLS options for every Redis connection: `rediss://` turns TLS on by itself (public CAs);
 * REDIS_CA_FILE adds a private CA that signs the server's certificate. Never disables verification.
 */
export function redisTlsOptions(config: Pick<AppConfig, 'redisUrl' | 'redisCa'>): Pick<RedisOptions, 'tls'> {
  if (!config.redisUrl.startsWith('rediss://') || !config.redisCa) return {};
  return { tls: { ca: config.redisCa } };
}

export function createRedis(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, { lazyConnect: false, enableAutoPipelining: true, ...options });
}

/** Owns the process's shared Redis connection and closes it on shutdown. */
@Injectable()
export class RedisLifecycle implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

export const redisProvider = {
  provide: REDIS,
  inject: [APP_CONFIG],
  useFactory: (config: AppConfig): Redis =>
    createRedis(config.redisUrl, { maxRetriesPerRequest: 3, ...redisTlsOptions(config) }),
};

export { Redis };
