import { Controller, Get, HttpStatus, Inject } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { REDIS } from '@mailpush/store';
import { ApiError } from '../common/api-error';

/** Probes on the public port too (load balancers); `/metrics` is on the ops port only (libs/runtime/ops.ts). */
@Controller()
export class HealthController {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  /** Liveness: the process answers. Never depends on Redis, or a Redis blip would restart every pod. */
  @Get('healthz')
  healthz() {
    return { status: 'ok' };
  }

  /** Readiness: Redis answers within a second. */
  @Get('readyz')
  async readyz() {
    const ok = await Promise.race([
      this.redis.ping().then(
        (r) => r === 'PONG',
        () => false,
      ),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 1000).unref()),
    ]);
    if (!ok) throw new ApiError(HttpStatus.SERVICE_UNAVAILABLE, 'not_ready', 'Redis is not reachable');
    return { status: 'ready' };
  }
}
