import { Module } from '@nestjs/common';
import { ConfigModule } from '@mailpush/config';
import { TokenSourceFactory } from '@mailpush/oauth';
import { ProviderRegistry } from '@mailpush/providers';
import { MailEventsProducer, QueueRegistry } from '@mailpush/queue';
import { StoreModule } from '@mailpush/store';
import { AccountSupervisor } from './account-supervisor';
import { CredentialHooks } from './credential-hooks';

@Module({
  imports: [ConfigModule, StoreModule],
  providers: [
    QueueRegistry,
    MailEventsProducer,
    AccountSupervisor,
    ProviderRegistry,
    TokenSourceFactory,
    CredentialHooks,
  ],
})
export class WorkerModule {}
