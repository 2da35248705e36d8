import type { INestApplicationContext } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { APP_CONFIG, type AppConfig } from '../config';
import { startOpsServer } from '../metrics';
import { REDIS } from '../store';

/**
 * Health and metrics for a role without an API (worker, dispatcher), on MAILPUSH_OPS_PORT.
 * `/readyz` needs Redis to answer and, where given, `ready()` (a worker: its initial takeover done).
 */
export async function serveOps(app: INestApplicationContext, ready?: () => boolean): Promise<() => Promise<void>> {
  const config = app.get<AppConfig>(APP_CONFIG);
  const redis = app.get<Redis>(REDIS);
  const server = await startOpsServer(
    config.opsPort,
    config.http.host,
    async () => (ready?.() ?? true) && (await redis.ping()) === 'PONG',
  );
  return () => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
}
