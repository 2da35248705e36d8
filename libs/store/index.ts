export { StoreModule } from './store.module';
export { REDIS, createRedis, Redis } from './redis.provider';
export { RedisKeys } from './redis-keys';
export { newId, isId, sha256Hex } from './ids';
export { CredentialCipher, CredentialCipherError, type MasterKey } from './credential-cipher';
export { UserRepository } from './user.repository';
export { LinkSessionRepository, type LinkSession, type LinkSessionInfo } from './link-session.repository';
export { DeviceRepository, type NewDevice } from './device.repository';
export {
  AccountRepository,
  type NewAccount,
  type AccountCredentials,
  type OAuthAccess,
  type OAuthGrantInput,
  type StoredOAuthGrant,
} from './account.repository';
export { OAuthStateRepository, type OAuthStateRecord } from './oauth-state.repository';
export { OAuthRefreshLockRepository, type RefreshLock } from './oauth-refresh-lock.repository';
export { CursorRepository, type CursorWrite } from './cursor.repository';
export { LeaseRepository, type Lease } from './lease.repository';
export { WorkerMembership } from './worker-membership.repository';
export type * from './models';
