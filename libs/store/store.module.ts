import { Global, Module } from '@nestjs/common';
import { AccountRepository } from './account.repository';
import { CursorRepository } from './cursor.repository';
import { DeviceRepository } from './device.repository';
import { LeaseRepository } from './lease.repository';
import { WorkerMembership } from './worker-membership.repository';
import { RedisLifecycle, redisProvider, REDIS } from './redis.provider';
import { UserRepository } from './user.repository';
import { LinkSessionRepository } from './link-session.repository';
import { MasterKeyCanary } from './master-key-canary';

const REPOSITORIES = [
  UserRepository,
  DeviceRepository,
  AccountRepository,
  CursorRepository,
  LeaseRepository,
  WorkerMembership,
  LinkSessionRepository,
];

@Global()
@Module({
  providers: [redisProvider, RedisLifecycle, MasterKeyCanary, ...REPOSITORIES],
  exports: [REDIS, MasterKeyCanary, ...REPOSITORIES],
})
export class StoreModule {}
