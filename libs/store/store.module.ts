import { Global, Module } from '@nestjs/common';
import { AccountCensus } from './account-census';
import { AccountOwnershipReader } from './account-ownership.reader';
import { AccountRepository } from './account.repository';
import { CursorRepository } from './cursor.repository';
import { DeviceRepository } from './device.repository';
import { LeaseRepository } from './lease.repository';
import { WorkerMembership } from './worker-membership.repository';
import { RedisLifecycle, redisProvider, REDIS } from './redis.provider';
import { UserRepository } from './user.repository';
import { LinkSessionRepository } from './link-session.repository';
import { OAuthStateRepository } from './oauth-state.repository';
import { OAuthRefreshLockRepository } from './oauth-refresh-lock.repository';
import { MasterKeyCanary } from './master-key-canary';

const REPOSITORIES = [
  UserRepository,
  DeviceRepository,
  AccountRepository,
  CursorRepository,
  LeaseRepository,
  WorkerMembership,
  LinkSessionRepository,
  OAuthStateRepository,
  OAuthRefreshLockRepository,
  AccountOwnershipReader,
  AccountCensus,
];

@Global()
@Module({
  providers: [redisProvider, RedisLifecycle, MasterKeyCanary, ...REPOSITORIES],
  exports: [REDIS, MasterKeyCanary, ...REPOSITORIES],
})
export class StoreModule {}
