import { Module } from '@nestjs/common';
import { ConfigModule } from '@mailpush/config';
import {
  BurstBudget,
  DeadLetterRepository,
  DeliveryMarks,
  ReconnectLinks,
  UserEventsPublisher,
} from '@mailpush/delivery';
import { QueueRegistry } from '@mailpush/queue';
import { StoreModule } from '@mailpush/store';
import { DeliveryHandler } from './delivery.handler';
import { DispatchConsumers } from './dispatch.consumers';
import { FanOutService } from './fan-out.service';
import { PushTransports } from './push-transports';

@Module({
  imports: [ConfigModule, StoreModule],
  providers: [
    QueueRegistry,
    DeliveryMarks,
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
