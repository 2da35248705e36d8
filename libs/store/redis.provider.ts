import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { APP_CONFIG, type AppConfig, type RedisTarget } from '@mailpush/config';
import { createLogger } from '@mailpush/logging';

const log = createLogger('redis');

export const REDIS = Symbol('REDIS');

/**
 * What a connection is for:
 * - `commands`: the process's shared connection (auto-pipelined; a command fails after a few
 *   reconnect attempts so a caller can decide);
 * - `subscriber`: pub/sub only;
 * - `queue`: BullMQ (blocking commands need `maxRetriesPerRequest: null`: a command waits
 *   through a reconnect or a failover instead of failing).
 */
export type RedisRole = 'commands' | 'subscriber' | 'queue';

const ROLE_OPTIONS: Record<RedisRole, RedisOptions> = {
  commands: { enableAutoPipelining: true, maxRetriesPerRequest: 3 },
  subscriber: { enableAutoPipelining: false, maxRetriesPerRequest: 3 },
  queue: { maxRetriesPerRequest: null, enableReadyCheck: true },
};

/**
 * TLS options for a Redis connection: `rediss://` turns TLS on by itself (public CAs);
 * REDIS_CA_FILE adds a private CA that signs the server's certificate. Never disables verification.
 * Sentinel and Cluster targets carry no CA (config validation refuses REDIS_CA_FILE with them).
 */
export function redisTlsOptions(target: RedisTarget): Pick<RedisOptions, 'tls'> {
  if (target.mode !== 'standalone' || !target.url.startsWith('rediss://') || !target.ca) return {};
  return { tls: { ca: target.ca } };
}

/**
 * The one place that opens Redis connections, for every role and BullMQ: one server (REDIS_URL),
 * a Sentinel-monitored primary (REDIS_SENTINELS: ioredis asks the sentinels for the primary and
 * follows a failover), or a Redis Cluster (REDIS_CLUSTER_NODES). `duplicate()` of what it returns
 * keeps the same target.
 *
 * A Cluster client has the same command methods as a single-server client; the rest of the code
 * is written against `Redis` and keeps every multi-key script and MULTI on one hash slot (see
 * RedisKeys), so the Cluster client is handed out under that type.
 */
export function createRedisConnection(target: RedisTarget, role: RedisRole, extra: RedisOptions = {}): Redis {
  const options: RedisOptions = { ...ROLE_OPTIONS[role], ...redisTlsOptions(target), ...extra };
  switch (target.mode) {
    case 'standalone':
      return new Redis(target.url, options);
    case 'sentinel':
      return new Redis({
        ...options,
        sentinels: target.sentinels,
        name: target.name,
        ...(target.sentinelPassword ? { sentinelPassword: target.sentinelPassword } : {}),
        ...(target.password ? { password: target.password } : {}),
      });
    case 'cluster': {
      const { enableAutoPipelining, ...redisOptions } = options;
      const cluster = new Cluster(target.nodes, {
        redisOptions: { ...redisOptions, ...(target.password ? { password: target.password } : {}) },
        enableAutoPipelining: enableAutoPipelining ?? false,
        enableReadyCheck: true,
        ...(options.maxRetriesPerRequest === null ? {} : { maxRedirections: 16 }),
      });
      return cluster as unknown as Redis;
    }
  }
}

/** Whether a connection from createRedisConnection talks to a Redis Cluster. */
export function isCluster(redis: Redis): boolean {
  return (redis as unknown as { isCluster?: boolean }).isCluster === true;
}

/** A single-server connection from a URL (tools and specs; roles use createRedisConnection). */
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
  useFactory: (config: AppConfig): Redis => {
    const redis = createRedisConnection(config.redis, 'commands');
    // ioredis reconnects by itself; without a listener each failed attempt is an unhandled `error` event.
    redis.on('error', (err: unknown) => log.warn('redis connection error', { err }));
    return redis;
  },
};

export { Redis };
