import { Module } from '@nestjs/common';
import { ConfigModule } from '@mailpush/config';
import { BurstBudget, DeadLetterRepository, ReconnectLinks, UserEventsPublisher } from '@mailpush/delivery';
import { StoreModule } from '@mailpush/store';
import { DeliveryHandler } from './delivery.handler';
import { DispatchConsumers } from './dispatch.consumers';
import { FanOutService } from './fan-out.service';
import { PushTransports } from './push-transports';

@Module({
  imports: [ConfigModule, StoreModule],
  providers: [
    PushTransports,
    BurstBudget,
    UserEventsPublisher,
    DeadLetterRepository,
    FanOutService,
    DeliveryHandler,
    DispatchConsumers,
    ReconnectLinks,
  ],
})
export class DispatcherModule {}
