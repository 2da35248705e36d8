import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError, loadConfig } from '@mailpush/config';
import type { RedisTarget } from '@mailpush/config';
import { createRedisConnection } from '@mailpush/store';

const RETRY_MS = 2_000;
const SAY_EVERY_MS = 10_000;

/**
 * Init step of every pod (deploy/k8s): validates the whole configuration, then waits until Redis
 * answers PING. A pod whose Redis is not up yet waits in `Init` instead of crash-looping, and a
 * configuration mistake shows in this container's log as the usual list of problems.
 */
async function main(): Promise<number> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`wait-for-redis: ${err.message}\n`);
      return 78;
    }
    throw err;
  }
  const target = describe(config.redis);
  const started = Date.now();
  let said = 0;
  for (;;) {
    const redis = createRedisConnection(config.redis, 'commands', {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      connectTimeout: RETRY_MS,
    });
    redis.on('error', () => undefined);
    try {
      await redis.connect();
      if ((await redis.ping()) === 'PONG') {
        process.stdout.write(`wait-for-redis: ${target} answers\n`);
        return 0;
      }
    } catch {
      // Not up yet (refused, DNS not there yet, loading its AOF): try again.
    } finally {
      redis.disconnect();
    }
    if (Date.now() - said >= SAY_EVERY_MS) {
      said = Date.now();
      process.stdout.write(`wait-for-redis: waiting for ${target} (${Math.round((said - started) / 1000)} s)\n`);
    }
    await sleep(RETRY_MS);
  }
}

/** Where Redis is, without credentials: a URL's host and port, or the Sentinel / Cluster nodes. */
function describe(target: RedisTarget): string {
  switch (target.mode) {
    case 'standalone': {
      const where = new URL(target.url);
      return `${where.hostname}:${where.port || '6379'}`;
    }
    case 'sentinel':
      return `${target.name} via sentinels ${target.sentinels.map((n) => `${n.host}:${n.port}`).join(',')}`;
    case 'cluster':
      return `cluster ${target.nodes.map((n) => `${n.host}:${n.port}`).join(',')}`;
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`wait-for-redis: ${err instanceof Error ? err.message : 'failed'}\n`);
    process.exit(1);
  },
);
