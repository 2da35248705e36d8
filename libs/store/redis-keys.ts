/**
 * Every Redis key mailpush owns is built here and nowhere else. BullMQ's own keys live under the
 * queue prefix (MAILPUSH_QUEUE_PREFIX) and are built by BullMQ.
 */
const NS = 'mp';

export const RedisKeys = {
  /** SCAN pattern of every key above (erasure sweeps it for a user's ids). */
  everything: () => `${NS}:*`,
  user: (userId: string) => `${NS}:user:${userId}`,
  apiKey: (apiKeyHash: string) => `${NS}:apikey:${apiKeyHash}`,
  /** A one-time linking URL's token (hashed) → user id; expires by itself. */
  linkSession: (tokenHash: string) => `${NS}:link-session:${tokenHash}`,
  /** Refused logins made through one link session; the session ends at a bound. */
  linkSessionRefusals: (tokenHash: string) => `${NS}:link-session:${tokenHash}:refusals`,
  /** Held while one request links through a one-time session: a second one cannot link too. */
  linkSessionClaim: (tokenHash: string) => `${NS}:link-session:${tokenHash}:claim`,
  /** rate-limiter-flexible key prefix (it appends `:<key>`) for login attempts per user, address or host. */
  loginLimit: (scope: 'user' | 'address' | 'host') => `${NS}:limit:login-${scope}`,
  /** A value sealed with the master key at first start: a key that cannot open it stops every role. */
  masterKeyCanary: () => `${NS}:master-key-canary`,
  userDevices: (userId: string) => `${NS}:user:${userId}:devices`,
  userAccounts: (userId: string) => `${NS}:user:${userId}:accounts`,
  device: (deviceId: string) => `${NS}:device:${deviceId}`,
  deviceToken: (platform: string, tokenHash: string) => `${NS}:device-token:${platform}:${tokenHash}`,
  account: (accountId: string) => `${NS}:account:${accountId}`,
  /** Set of every account id: what workers scan to find work. */
  allAccounts: () => `${NS}:accounts`,
  cursor: (accountId: string) => `${NS}:cursor:${accountId}`,
  lease: (accountId: string) => `${NS}:lease:${accountId}`,
  leaseFence: (accountId: string) => `${NS}:lease-fence:${accountId}`,
  /** Sorted set of live workers, scored by their last heartbeat (ms): who accounts are ranked over. */
  workers: () => `${NS}:workers`,
  /** Pub/sub channel: an account id is published when it is created, changed or deleted. */
  accountsChannel: () => `${NS}:events:accounts`,
  /** Pub/sub channel of one user's new-mail events (the SSE stream). */
  userEventsChannel: (userId: string) => `${NS}:events:user:${userId}`,
  /** The APNs provider token (JWT) every dispatcher of a team shares. */
  apnsProviderToken: (teamId: string, keyId: string) => `${NS}:apns-jwt:${teamId}:${keyId}`,
  /** Start (ms) of a device's current burst window; expires with the window. */
  burstWindow: (deviceId: string) => `${NS}:burst:${deviceId}`,
  /** Hash of one burst window: rank of each message admitted, and what the summary covers. */
  burstCounts: (deviceId: string, windowStart: number) => `${NS}:burst:${deviceId}:${windowStart}`,
  /** Bounded list of deliveries that exhausted their attempts (JSON entries, newest first). */
  deadLetters: () => `${NS}:dead-letters`,
} as const;
