import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ConfigModule } from '@mailpush/config';
import { DeadLetterRepository } from '@mailpush/delivery';
import { ProviderRegistry } from '@mailpush/providers';
import { QueueRegistry } from '@mailpush/queue';
import { StoreModule } from '@mailpush/store';
import { AccountsController } from './accounts/accounts.controller';
import { AccountsService } from './accounts/accounts.service';
import { DeadLettersController } from './admin/dead-letters.controller';
import { DeadLettersService } from './admin/dead-letters.service';
import { OverviewController, OverviewService } from './admin/overview.controller';
import { AdminGuard, LinkSessionGuard, UserGuard } from './common/auth.guards';
import { AllExceptionsFilter } from './common/all-exceptions.filter';
import { DevicesController } from './devices/devices.controller';
import { DevicesService } from './devices/devices.service';
import { VapidKeyController } from './devices/vapid-key.controller';
import { EventStreamService } from './events/event-stream.service';
import { EventsController } from './events/events.controller';
import { UserEventsSubscriber } from './events/user-events.subscriber';
import { HealthController } from './health/health.controller';
import { UsersController } from './users/users.controller';
import { UserErasureService } from './users/user-erasure.service';
import { LoginLimiter } from '@mailpush/limits';
import { LinkPageController } from './web/link-page.controller';
import { ClusterMetricsCollector } from './ops/cluster-metrics.collector';
import { CurrentLinkSessionController, LinkSessionsController } from './link-sessions/link-sessions.controller';
import { OAuthController } from './oauth/oauth.controller';
import { OAuthLinkService } from './oauth/oauth-link.service';
import { OpenApiController } from './openapi/openapi.controller';
import { ProvidersController } from './oauth/providers.controller';
import { ReconnectController } from './oauth/reconnect.controller';

@Module({
  imports: [ConfigModule, StoreModule],
  controllers: [
    LinkPageController,
    HealthController,
    UsersController,
    DevicesController,
    AccountsController,
    VapidKeyController,
    EventsController,
    DeadLettersController,
    OverviewController,
    LinkSessionsController,
    CurrentLinkSessionController,
    ProvidersController,
    OAuthController,
    ReconnectController,
    OpenApiController,
  ],
  providers: [
    AccountsService,
    AdminGuard,
    UserGuard,
    LinkSessionGuard,
    { provide: APP_FILTER, useClass: AllExceptionsFilter },
    DevicesService,
    UserEventsSubscriber,
    EventStreamService,
    DeadLetterRepository,
    DeadLettersService,
    OverviewService,
    ProviderRegistry,
    OAuthLinkService,
    ClusterMetricsCollector,
    LoginLimiter,
    UserErasureService,
    QueueRegistry,
  ],
})
export class ApiModule {}
