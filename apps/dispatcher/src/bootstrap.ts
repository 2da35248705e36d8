import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestLogger } from '@mailpush/logging';
import { DispatcherModule } from './dispatcher.module';

export async function bootstrapDispatcher(): Promise<INestApplicationContext> {
  return NestFactory.createApplicationContext(DispatcherModule, { logger: new NestLogger() });
}
