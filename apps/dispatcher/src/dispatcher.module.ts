import { Module } from '@nestjs/common';
import { ConfigModule } from '../../../libs/config';
import { BurstBudget, DeadLetterRepository, ReconnectLinks, UserEventsPublisher } from '../../../libs/delivery';
import { StoreModule } from '../../../libs/store';
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
