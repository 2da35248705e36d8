import { Module } from '@nestjs/common';
import { ConfigModule } from '../../../libs/config';
import { StoreModule } from '../../../libs/store';
import { DispatchConsumers } from './dispatch.consumers';
import { PushTransports } from './push-transports';

@Module({
  imports: [ConfigModule, StoreModule],
  providers: [PushTransports, DispatchConsumers],
})
export class DispatcherModule {}
