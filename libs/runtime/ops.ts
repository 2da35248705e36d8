import type { INestApplicationContext } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { APP_CONFIG, type AppConfig } from '@mailpush/config';
import { startOpsServer } from '@mailpush/metrics';
import { REDIS } from '@mailpush/store';

export type OpsRole = 'api' | 'worker' | 'dispatcher' | 'all';

/**
 * Each role's own ops port when MAILPUSH_OPS_PORT is unset, so the roles started side by side on
 * one host (a VM, docker compose) never collide. `all` (npm start) is one process: one ops server.
 */
export const DEFAULT_OPS_PORTS: Readonly<Record<OpsRole, number>> = {
  worker: 9090,
  dispatcher: 9091,
  api: 9092,
  all: 9092,
};

/** A readiness check that answers within a second: Redis answers PING. */
async function redisReady(redis: Redis): Promise<boolean> {
  return Promise.race([
    redis.ping().then(
      (r) => r === 'PONG',
      () => false,
    ),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 1000).unref()),
  ]);
}

/**
 * `/healthz`, `/readyz` and `/metrics` of a role on its ops port (MAILPUSH_OPS_PORT or the role's
 * default). `/readyz` needs Redis to answer and, where given, `ready()` (a worker: its initial
 * takeover done, so a rolling update waits for it).
 */
export async function serveOps(
  app: INestApplicationContext,
  role: OpsRole,
  ready?: () => boolean,
): Promise<() => Promise<void>> {
  const config = app.get<AppConfig>(APP_CONFIG);
  const redis = app.get<Redis>(REDIS);
  const port = config.opsPort ?? DEFAULT_OPS_PORTS[role];
  const server = await startOpsServer(
    port,
    config.http.host,
    async () => (ready?.() ?? true) && (await redisReady(redis)),
  );
  return () => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
}
