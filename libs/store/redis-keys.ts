/**
 * Every Redis key mailpush owns is built here and nowhere else. BullMQ's own keys live under the
 * queue prefix (MAILPUSH_QUEUE_PREFIX) and are built by BullMQ.
 */
const NS = 'mp';

export const RedisKeys = {
  user: (userId: string) => `${NS}:user:${userId}`,
  apiKey: (apiKeyHash: string) => `${NS}:apikey:${apiKeyHash}`,
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
  /** Pub/sub channel: an account id is published when it is created, changed or deleted. */
  accountsChannel: () => `${NS}:events:accounts`,
} as const;
