import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestLogger } from '@mailpush/logging';
import { WorkerModule } from './worker.module';

export async function bootstrapWorker(): Promise<INestApplicationContext> {
  const app = await NestFactory.createApplicationContext(WorkerModule, { logger: new NestLogger() });
  return app;
}
