import { Module } from '@nestjs/common';
import { ConfigModule } from '../../../libs/config';
import { TokenSourceFactory } from '../../../libs/oauth';
import { ProviderRegistry } from '../../../libs/providers';
import { MailEventsProducer } from '../../../libs/queue';
import { StoreModule } from '../../../libs/store';
import { AccountSupervisor } from './account-supervisor';
import { CredentialHooks } from './credential-hooks';

@Module({
  imports: [ConfigModule, StoreModule],
  providers: [MailEventsProducer, AccountSupervisor, ProviderRegistry, TokenSourceFactory, CredentialHooks],
})
export class WorkerModule {}
