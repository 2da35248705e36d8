import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { APP_CONFIG, type AppConfig } from '@mailpush/config';
import { NestLogger, createLogger } from '@mailpush/logging';
import { ApiModule } from './api.module';
import { httpMetrics } from './common/http-metrics.middleware';
import { httpHygiene } from './common/http-hygiene';

const log = createLogger('api');

/** Request bodies are small JSON documents; anything bigger is refused before it is parsed. */
const BODY_LIMIT = '32kb';

export async function bootstrapApi(): Promise<{ app: INestApplication; url: string }> {
  const app = await NestFactory.create<NestExpressApplication>(ApiModule, {
    logger: new NestLogger(),
    bodyParser: false,
  });
  const config = app.get<AppConfig>(APP_CONFIG);
  // Off by default: X-Forwarded-For from anyone would let a caller pick the address limits key on.
  app.set('trust proxy', config.http.trustProxy);
  app.use(httpMetrics);
  app.use(httpHygiene(config));
  app.useBodyParser('json', { limit: BODY_LIMIT });
  app.disable('x-powered-by');
  await app.listen(config.http.port, config.http.host);
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.http.port;
  const shownHost = config.http.host === '0.0.0.0' || config.http.host === '::' ? '127.0.0.1' : config.http.host;
  const url = config.http.publicUrl ?? `http://${shownHost}:${port}`;
  log.info('api listening', { url });
  return { app, url };
}
