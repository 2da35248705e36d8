export { StoreModule } from './store.module';
export {
  REDIS,
  createRedis,
  createRedisConnection,
  isCluster,
  redisTlsOptions,
  Redis,
  type RedisRole,
} from './redis.provider';
export { SLOT_COUNT, slotOf, slotTag } from './slots';
export { RedisScript, ScriptReply, ScriptReplyError, type ReplyParser } from './redis-script';
export { releaseIfHolder, renewIfHolder, type HeldKey } from './held-key';
export { scanKeys } from './scan-keys';
export { MasterKeyCanary, MasterKeyMismatchError } from './master-key-canary';
export { QuotaExceededError, OwnerGoneError, type QuotaKind } from './quota';
export { RedisKeys } from './redis-keys';
export { newId, isId, sha256Hex } from './ids';
export { CredentialCipher, CredentialCipherError, type MasterKey } from './credential-cipher';
export { StoredValueError, readStoredJson, requireStoredJson } from './stored-value';
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
export { LeaseRepository, type Lease, type SlotLease, type SlotAcquisition } from './lease.repository';
export {
  WorkerMembership,
  encodeAnnouncement,
  decodeAnnouncement,
  type OwnershipAnnouncement,
} from './worker-membership.repository';
export { AccountOwnershipReader } from './account-ownership.reader';
export { AccountCensus, type Census } from './account-census';
export type * from './models';
