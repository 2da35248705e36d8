/**
 * Every Redis key mailpush owns is built here and nowhere else. BullMQ's own keys live under the
 * queue prefix (MAILPUSH_QUEUE_PREFIX) and are built by BullMQ.
 */
const NS = 'mp';

export const RedisKeys = {
  user: (userId: string) => `${NS}:user:${userId}`,
  apiKey: (apiKeyHash: string) => `${NS}:apikey:${apiKeyHash}`,
  /** A one-time linking URL's token (hashed) → user id; expires by itself. */
  linkSession: (tokenHash: string) => `${NS}:link-session:${tokenHash}`,
  /** The one account a Reconnect link session may re-arm (same TTL as the session). */
  linkSessionScope: (tokenHash: string) => `${NS}:link-session:${tokenHash}:scope`,
  /** A pending OAuth2 authorization (hashed `state`) → JSON; 10 min, claimed once (GETDEL). */
  oauthState: (stateHash: string) => `${NS}:oauth-state:${stateHash}`,
  /** Held by the one process refreshing an account's OAuth2 grant. */
  oauthRefreshLock: (accountId: string) => `${NS}:oauth-refresh-lock:${accountId}`,
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
