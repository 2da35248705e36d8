import { Module } from '@nestjs/common';
import { ConfigModule } from '../../../libs/config';
import { MailEventsProducer } from '../../../libs/queue';
import { StoreModule } from '../../../libs/store';
import { AccountSupervisor } from './account-supervisor';

@Module({
  imports: [ConfigModule, StoreModule],
  providers: [MailEventsProducer, AccountSupervisor],
})
export class WorkerModule {}
