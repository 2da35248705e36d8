import { Controller, Get, HttpStatus, Inject } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { HealthCheck, READY_BODY } from '@mailpush/runtime';
import { REDIS } from '@mailpush/store';
import { ApiError } from '../common/api-error';

/**
 * The role's HealthCheck on the public port too (load balancers), answering errors in the API's own
 * format; `/metrics` is on the ops port only (libs/runtime/ops-server.ts).
 */
@Controller()
export class HealthController {
  private readonly health: HealthCheck;

  constructor(@Inject(REDIS) redis: Redis) {
    this.health = new HealthCheck(redis);
  }

  @Get('healthz')
  healthz() {
    return this.health.live();
  }

  @Get('readyz')
  async readyz() {
    if (!(await this.health.ready())) {
      throw new ApiError(HttpStatus.SERVICE_UNAVAILABLE, 'not_ready', 'Redis is not reachable');
    }
    return READY_BODY;
  }
}
