import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ConfigModule } from '../../../libs/config';
import { StoreModule } from '../../../libs/store';
import { AccountsController } from './accounts/accounts.controller';
import { AccountsService } from './accounts/accounts.service';
import { AdminGuard, UserGuard } from './common/auth.guards';
import { AllExceptionsFilter } from './common/all-exceptions.filter';
import { DevicesController } from './devices/devices.controller';
import { HealthController } from './health/health.controller';
import { UsersController } from './users/users.controller';
import { LinkPageController } from './web/link-page.controller';

@Module({
  imports: [ConfigModule, StoreModule],
  controllers: [LinkPageController, HealthController, UsersController, DevicesController, AccountsController],
  providers: [AccountsService, AdminGuard, UserGuard, { provide: APP_FILTER, useClass: AllExceptionsFilter }],
})
export class ApiModule {}
