import { slotOf, slotTag } from './slots';

/**
 * Every Redis key mailpush owns is built here and nowhere else. BullMQ's own keys live under the
 * queue prefix (MAILPUSH_QUEUE_PREFIX) and are built by BullMQ.
 *
 * Redis Cluster: keys that one script or MULTI touches together share a hash tag (`{…}`): an
 * account's record, its cursor and its slot's lease carry the slot's tag; a device's burst keys
 * carry the device id.
 */
const NS = 'mp';

const slotKey = (slot: number, part: string): string => `${NS}:slot:${slotTag(slot)}:${part}`;

export const RedisKeys = {
  /** SCAN pattern of every key above (erasure sweeps it for a user's ids). */
  everything: () => `${NS}:*`,
  user: (userId: string) => `${NS}:user:${userId}`,
  apiKey: (apiKeyHash: string) => `${NS}:apikey:${apiKeyHash}`,
  /** A linking URL's token (hashed) → user id; expires by itself. */
  linkSession: (tokenHash: string) => `${NS}:link-session:{${tokenHash}}`,
  /** The one account a Reconnect link session may re-arm (same TTL and hash tag as the session). */
  linkSessionScope: (tokenHash: string) => `${NS}:link-session:{${tokenHash}}:scope`,
  /** A pending OAuth2 authorization (hashed `state`) → JSON; 10 min, claimed once (GETDEL). */
  oauthState: (stateHash: string) => `${NS}:oauth-state:${stateHash}`,
  /** Held by the one process refreshing an account's OAuth2 grant. */
  oauthRefreshLock: (accountId: string) => `${NS}:oauth-refresh-lock:${accountId}`,
  /** Refused logins made through one link session (same hash tag); the session ends at a bound. */
  linkSessionRefusals: (tokenHash: string) => `${NS}:link-session:{${tokenHash}}:refusals`,
  /** Held while one request links through a session (same hash tag): one submit in flight per link. */
  linkSessionClaim: (tokenHash: string) => `${NS}:link-session:{${tokenHash}}:claim`,
  /** rate-limiter-flexible key prefix (it appends `:<key>`) for login attempts per user, address or host. */
  loginLimit: (scope: 'user' | 'address' | 'host') => `${NS}:limit:login-${scope}`,
  /** A value sealed with the master key at first start: a key that cannot open it stops every role. */
  masterKeyCanary: () => `${NS}:master-key-canary`,
  userDevices: (userId: string) => `${NS}:user:${userId}:devices`,
  userAccounts: (userId: string) => `${NS}:user:${userId}:accounts`,
  device: (deviceId: string) => `${NS}:device:${deviceId}`,
  deviceToken: (platform: string, tokenHash: string) => `${NS}:device-token:${platform}:${tokenHash}`,
  account: (accountId: string) => `${NS}:account:${slotTag(slotOf(accountId))}:${accountId}`,
  /** Set of every account id (admin counts, key rotation); workers read their slots' sets instead. */
  allAccounts: () => `${NS}:accounts`,
  cursor: (accountId: string) => `${NS}:cursor:${slotTag(slotOf(accountId))}:${accountId}`,
  /** The lease an account is held under: its slot's. */
  lease: (accountId: string) => slotKey(slotOf(accountId), 'lease'),
  leaseFence: (accountId: string) => slotKey(slotOf(accountId), 'fence'),
  /** `<workerId>#<fence>` of the worker holding the slot, with a TTL. */
  slotLease: (slot: number) => slotKey(slot, 'lease'),
  /** Grows on every acquisition of the slot: the fencing token. */
  slotFence: (slot: number) => slotKey(slot, 'fence'),
  /** Ids of the slot's accounts. */
  slotAccounts: (slot: number) => slotKey(slot, 'accounts'),
  /** Grows on every change to one of the slot's accounts (and is published with it). */
  slotVersion: (slot: number) => slotKey(slot, 'version'),
  /** Pub/sub channel of one slot: `<version>:<accountId>` when one of its accounts changes. */
  slotChannel: (slot: number) => `${NS}:events:slot:${slot}`,
  /**
   * Sorted set of live workers, scored by their last heartbeat (ms): who slots are ranked over.
   * Not the pre-slot `mp:workers`, so workers of the two layouts never rank over each other.
   */
  workers: () => `${NS}:slot-workers`,
  /** Pub/sub channel of ownership moves: `join:<worker>`, `leave:<worker>`, `release:<slot>`. */
  workersChannel: () => `${NS}:events:workers`,
  /** Fleet-wide connect token bucket of one IMAP host. */
  connectBucket: (host: string) => `${NS}:connect-bucket:${host}`,
  /** Set once every pre-slot account has been given its slot. */
  slotMigration: () => `${NS}:migration:slots`,
  /** Pre-slot layout, read only by the migration. */
  legacyAccount: (accountId: string) => `${NS}:account:${accountId}`,
  legacyCursor: (accountId: string) => `${NS}:cursor:${accountId}`,
  /** Pre-slot pub/sub channel the api published account changes on (read by the migration). */
  accountsChannel: () => `${NS}:events:accounts`,
  /** Pub/sub channel of one user's new-mail events (the SSE stream). */
  userEventsChannel: (userId: string) => `${NS}:events:user:${userId}`,
  /** The APNs provider token (JWT) every dispatcher of a team shares. */
  apnsProviderToken: (teamId: string, keyId: string) => `${NS}:apns-jwt:${teamId}:${keyId}`,
  /**
   * Hash of one message's deliveries, field per device: the job delivering to it now, or how it
   * was settled. Makes every device of a delivery batch exactly-once across retries.
   */
  deliveryMarks: (messageKey: string) => `${NS}:delivery-marks:{${messageKey}}`,
  /** Start (ms) of a device's current burst window; expires with the window. */
  burstWindow: (deviceId: string) => `${NS}:burst:{${deviceId}}`,
  /** Hash of one burst window: rank of each message admitted, and what the summary covers. */
  burstCounts: (deviceId: string, windowStart: number) => `${NS}:burst:{${deviceId}}:${windowStart}`,
  /** Bounded list of deliveries that exhausted their attempts (JSON entries, newest first). */
  deadLetters: () => `${NS}:dead-letters`,
  /** Which api process computes the cluster-wide metrics (a short lease, renewed while it lives). */
  clusterMetricsLease: () => `${NS}:ops:cluster-metrics`,
} as const;
