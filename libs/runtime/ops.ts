import type { INestApplicationContext } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { APP_CONFIG, type AppConfig } from '@mailpush/config';
import { REDIS } from '@mailpush/store';
import { HealthCheck } from './health';
import { startOpsServer } from './ops-server';

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

/**
 * `/healthz`, `/readyz` and `/metrics` of a role on its ops port (MAILPUSH_OPS_PORT or the role's
 * default); `ready()`, where given, is the role's own readiness condition (HealthCheck).
 */
export async function serveOps(
  app: INestApplicationContext,
  role: OpsRole,
  ready?: () => boolean,
): Promise<() => Promise<void>> {
  const config = app.get<AppConfig>(APP_CONFIG);
  const redis = app.get<Redis>(REDIS);
  const port = config.opsPort ?? DEFAULT_OPS_PORTS[role];
  const server = await startOpsServer(port, config.http.host, new HealthCheck(redis, ready));
  return () => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
}
