import { z } from 'zod';

const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const httpsEndpoint = z.url({ protocol: /^https$/ }).transform((raw) => {
  const url = new URL(raw);
  return { host: url.hostname, port: url.port ? Number(url.port) : 443, origin: url.origin };
});

/**
 * MAILPUSH_MASTER_KEY: comma-separated `version:base64key` entries, newest first.
 * The first entry encrypts; every entry can decrypt, so an old key stays listed until
 * everything sealed with it has been re-encrypted.
 */
const masterKeys = z.string().transform((raw, ctx) => {
  const keys: { version: string; key: Buffer }[] = [];
  for (const part of raw
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const sep = part.indexOf(':');
    const version = sep > 0 ? part.slice(0, sep) : '';
    const key = Buffer.from(sep > 0 ? part.slice(sep + 1) : '', 'base64');
    if (!/^v[0-9]{1,6}$/.test(version) || key.length !== 32) {
      ctx.addIssue({
        code: 'custom',
        message: 'each entry must be "v<N>:<base64 of 32 random bytes>" (e.g. v1:$(openssl rand -base64 32))',
      });
      return z.NEVER;
    }
    if (keys.some((k) => k.version === version)) {
      ctx.addIssue({ code: 'custom', message: `key version ${version} is listed twice` });
      return z.NEVER;
    }
    keys.push({ version, key });
  }
  if (keys.length === 0) {
    ctx.addIssue({ code: 'custom', message: 'at least one key is required' });
    return z.NEVER;
  }
  return keys;
});

const positiveInt = z.coerce.number().int().positive();
const oauthClientId = z.string().trim().min(1).max(512);
const oauthClientSecret = z.string().min(1).max(1024);

/** `host:port,host:port,…` (Sentinels, cluster seed nodes). */
const hostPorts = z.string().transform((raw, ctx) => {
  const nodes: { host: string; port: number }[] = [];
  for (const part of raw
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9_.-]+):([0-9]{1,5})$/.exec(part);
    const port = Number(m?.[2]);
    if (!m?.[1] || port < 1 || port > 65535) {
      ctx.addIssue({ code: 'custom', message: `"${part}" is not host:port` });
      return z.NEVER;
    }
    nodes.push({ host: m[1].replace(/^\[|\]$/g, ''), port });
  }
  if (nodes.length === 0) {
    ctx.addIssue({ code: 'custom', message: 'list at least one host:port' });
    return z.NEVER;
  }
  return nodes;
});

/** `<points>/<seconds>`: at most that many attempts within that many seconds. */
const rateLimit = z
  .string()
  .regex(/^[0-9]{1,6}\/[0-9]{1,7}$/, 'must be "<attempts>/<seconds>", e.g. 10/900')
  .transform((raw) => {
    const [points = 0, seconds = 0] = raw.split('/').map(Number);
    return { points, durationS: seconds };
  })
  .refine((l) => l.points > 0 && l.durationS > 0, 'both numbers must be positive');

/** `*` or a comma-separated list of ports. */
const portList = z
  .string()
  .regex(/^(\*|[0-9]{1,5}(,[0-9]{1,5})*)$/, 'must be "*" or comma-separated ports, e.g. 993,143')
  .transform((raw): number[] | 'any' => (raw === '*' ? 'any' : raw.split(',').map(Number)))
  .refine((p) => p === 'any' || p.every((n) => n >= 1 && n <= 65535), 'ports are 1-65535');

export const envSchema = z
  .object({
    REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
    /** Redis Sentinel instead of REDIS_URL: the sentinels to ask and the name of the monitored primary. */
    REDIS_SENTINELS: hostPorts.optional(),
    REDIS_SENTINEL_NAME: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/)
      .optional(),
    REDIS_SENTINEL_PASSWORD: z.string().min(1).optional(),
    /** Redis Cluster instead of REDIS_URL: a few of its nodes (the rest are discovered). */
    REDIS_CLUSTER_NODES: hostPorts.optional(),
    /** Password of the Redis data nodes with REDIS_SENTINELS or REDIS_CLUSTER_NODES (REDIS_URL carries its own). */
    REDIS_PASSWORD: z.string().min(1).optional(),
    PORT: z.coerce.number().int().min(0).max(65535).default(8080),
    HOST: z.string().min(1).default('0.0.0.0'),
    // Unset: each role's own default (libs/runtime/ops.ts), so roles side by side never collide.
    MAILPUSH_OPS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
    PUBLIC_URL: z.url().optional(),
    LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
    MAILPUSH_MASTER_KEY: masterKeys,
    MAILPUSH_ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters'),
    MAILPUSH_ALLOW_PRIVATE_HOSTS: booleanFlag.default(false),
    MAILPUSH_ALLOWED_IMAP_PORTS: portList.default([993, 143]),
    MAILPUSH_ALLOW_PLAINTEXT_IMAP: booleanFlag.default(false),
    MAILPUSH_TRUST_PROXY: z
      .string()
      .regex(
        /^(true|false|[0-9]{1,2}|[0-9a-zA-Z.:/,\s]+)$/,
        'must be false, true, a hop count or a list of proxy addresses',
      )
      .default('false'),
    MAILPUSH_LOGIN_LIMIT_PER_USER: rateLimit.default({ points: 10, durationS: 900 }),
    MAILPUSH_LOGIN_LIMIT_PER_ADDRESS: rateLimit.default({ points: 20, durationS: 900 }),
    MAILPUSH_LOGIN_LIMIT_PER_HOST: rateLimit.default({ points: 60, durationS: 60 }),
    MAILPUSH_MAX_ACCOUNTS_PER_USER: positiveInt.max(1_000_000).default(20),
    MAILPUSH_MAX_DEVICES_PER_USER: positiveInt.max(1_000_000).default(20),
    REDIS_CA_FILE: z.string().min(1).optional(),
    MAILPUSH_QUEUE_PREFIX: z
      .string()
      .regex(/^([A-Za-z0-9_-]{1,32}|\{[A-Za-z0-9_-]{1,32}\})$/, 'letters, digits, _ and -, optionally in {braces}')
      .default('mailpush'),
    MAILPUSH_WORKER_ID: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/)
      .optional(),
    MAILPUSH_LEASE_TTL_MS: positiveInt.default(30_000),
    /** A worker stops its connections this long before its slot leases run out unrenewed (default: TTL / 5). */
    MAILPUSH_LEASE_MARGIN_MS: positiveInt.optional(),
    /** How often a worker re-reads its own slots' account sets (the safety net behind pub/sub). */
    MAILPUSH_SLOT_RECONCILE_MS: positiveInt.default(60_000),
    MAILPUSH_IMAP_CONNECT_TIMEOUT_MS: positiveInt.default(15_000),
    MAILPUSH_IMAP_SOCKET_TIMEOUT_MS: positiveInt.default(150_000),
    MAILPUSH_IMAP_REIDLE_MS: positiveInt.default(9 * 60_000),
    MAILPUSH_IMAP_PROBE_AFTER_MS: positiveInt.default(90_000),
    MAILPUSH_IMAP_PROBE_TIMEOUT_MS: positiveInt.default(30_000),
    MAILPUSH_IMAP_POLL_INTERVAL_MS: positiveInt.default(60_000),
    MAILPUSH_RECONNECT_BASE_MS: positiveInt.default(1_000),
    MAILPUSH_RECONNECT_MAX_MS: positiveInt.default(5 * 60_000),
    MAILPUSH_CATCHUP_SUMMARY_THRESHOLD: positiveInt.max(1000).default(5),
    MAILPUSH_CONNECT_RATE_PER_WORKER: z.coerce.number().positive().max(10_000).default(50),
    MAILPUSH_CONNECT_RATE_PER_HOST: z.coerce.number().positive().max(10_000).default(10),
    /** Connects per second to one IMAP host across every worker together (a token bucket in Redis). */
    MAILPUSH_CONNECT_RATE_PER_HOST_FLEET: z.coerce.number().positive().max(10_000).default(20),
    MAILPUSH_DISPATCH_CONCURRENCY: positiveInt.default(50),
    APNS_KEY_FILE: z.string().min(1).optional(),
    APNS_KEY_ID: z
      .string()
      .regex(/^[A-Z0-9]{10}$/, 'must be the 10-character key id')
      .optional(),
    APNS_TEAM_ID: z
      .string()
      .regex(/^[A-Z0-9]{10}$/, 'must be the 10-character team id')
      .optional(),
    APNS_TOPIC: z.string().min(1).optional(),
    APNS_ENDPOINT: httpsEndpoint.optional(),
    /** The HTTP/2 client under the APNs transport: @parse/node-apn, or the project's own node:http2 one. */
    APNS_CLIENT: z.enum(['node-apn', 'http2']).default('node-apn'),
    FCM_SERVICE_ACCOUNT_FILE: z.string().min(1).optional(),
    FCM_PROJECT_ID: z
      .string()
      .regex(/^[a-z0-9-]{4,64}$/)
      .optional(),
    FCM_ENDPOINT: httpsEndpoint.optional(),
    APNS_JWT_REFRESH_MS: z.coerce
      .number()
      .int()
      .min(20 * 60_000, 'Apple: refresh the provider token no more than once every 20 minutes')
      .max(55 * 60_000, 'APNs rejects tokens older than 60 minutes: refresh within 55')
      .default(45 * 60_000),
    VAPID_PUBLIC_KEY: z
      .string()
      .regex(/^[A-Za-z0-9_-]{87}$/, 'must be the base64url P-256 public key (87 characters)')
      .optional(),
    VAPID_PRIVATE_KEY: z
      .string()
      .regex(/^[A-Za-z0-9_-]{43}$/, 'must be the base64url P-256 private key (43 characters)')
      .optional(),
    VAPID_SUBJECT: z
      .string()
      .regex(/^(mailto:\S+@\S+|https:\/\/\S+)$/, 'must be a mailto: or https: URL')
      .optional(),
    MAILPUSH_PUSH_TTL_S: z.coerce
      .number()
      .int()
      .min(0)
      .max(28 * 24 * 3600)
      .default(3600),
    MAILPUSH_PUSH_MAX_IN_FLIGHT: positiveInt.max(10_000).default(200),
    MAILPUSH_DELIVERY_ATTEMPTS: positiveInt.max(50).default(8),
    MAILPUSH_BURST_BUDGET: positiveInt.max(240, 'FCM allows 240 messages per device per minute').default(5),
    MAILPUSH_BURST_WINDOW_MS: z.coerce.number().int().min(1000).max(3600_000).default(60_000),
    // OAuth2 sign-in (issue 7): a provider's sign-in is on when both its client id and secret are set.
    OAUTH_GOOGLE_CLIENT_ID: oauthClientId.optional(),
    OAUTH_GOOGLE_CLIENT_SECRET: oauthClientSecret.optional(),
    OAUTH_MICROSOFT_CLIENT_ID: oauthClientId.optional(),
    OAUTH_MICROSOFT_CLIENT_SECRET: oauthClientSecret.optional(),
    OAUTH_MICROSOFT_TENANT: z
      .string()
      .regex(/^[A-Za-z0-9.-]{1,128}$/, 'must be common, organizations, consumers, a tenant id or a domain')
      .default('common'),
    OAUTH_YAHOO_CLIENT_ID: oauthClientId.optional(),
    OAUTH_YAHOO_CLIENT_SECRET: oauthClientSecret.optional(),
    MAILPUSH_PROVIDERS_FILE: z.string().min(1).optional(),
    MAILPUSH_OAUTH_REFRESH_MARGIN_MS: z.coerce
      .number()
      .int()
      .min(1_000)
      .max(30 * 60_000)
      .default(5 * 60_000),
    MAILPUSH_CLUSTER_METRICS_EVERY_MS: z.coerce.number().int().min(1000).max(600_000).default(15_000),
  })
  .superRefine((env, ctx) => {
    const redisModes = [env.REDIS_URL, env.REDIS_SENTINELS, env.REDIS_CLUSTER_NODES].filter(Boolean).length;
    if (redisModes > 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['REDIS_URL'],
        message: 'set only one of REDIS_URL, REDIS_SENTINELS and REDIS_CLUSTER_NODES',
      });
    }
    if (Boolean(env.REDIS_SENTINELS) !== Boolean(env.REDIS_SENTINEL_NAME)) {
      ctx.addIssue({
        code: 'custom',
        path: ['REDIS_SENTINEL_NAME'],
        message: 'REDIS_SENTINELS and REDIS_SENTINEL_NAME go together',
      });
    }
    if (
      env.MAILPUSH_LEASE_MARGIN_MS !== undefined &&
      env.MAILPUSH_LEASE_MARGIN_MS * 3 >= env.MAILPUSH_LEASE_TTL_MS * 2
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['MAILPUSH_LEASE_MARGIN_MS'],
        message: 'must be under two thirds of MAILPUSH_LEASE_TTL_MS (leases are renewed every third of it)',
      });
    }
    const apns = [env.APNS_KEY_FILE, env.APNS_KEY_ID, env.APNS_TEAM_ID, env.APNS_TOPIC];
    if (apns.some(Boolean) && !apns.every(Boolean)) {
      ctx.addIssue({
        code: 'custom',
        path: ['APNS_KEY_FILE'],
        message: 'APNs needs all of APNS_KEY_FILE, APNS_KEY_ID, APNS_TEAM_ID and APNS_TOPIC, or none',
      });
    }
    if ((env.FCM_SERVICE_ACCOUNT_FILE || env.FCM_ENDPOINT) && !env.FCM_PROJECT_ID && !env.FCM_SERVICE_ACCOUNT_FILE) {
      ctx.addIssue({ code: 'custom', path: ['FCM_PROJECT_ID'], message: 'FCM_ENDPOINT needs FCM_PROJECT_ID' });
    }
    if (env.MAILPUSH_IMAP_SOCKET_TIMEOUT_MS <= env.MAILPUSH_IMAP_PROBE_AFTER_MS + env.MAILPUSH_IMAP_PROBE_TIMEOUT_MS) {
      ctx.addIssue({
        code: 'custom',
        path: ['MAILPUSH_IMAP_SOCKET_TIMEOUT_MS'],
        message:
          'must exceed MAILPUSH_IMAP_PROBE_AFTER_MS + MAILPUSH_IMAP_PROBE_TIMEOUT_MS (the socket timeout is the backstop behind the probe)',
      });
    }
    if (env.MAILPUSH_IMAP_SOCKET_TIMEOUT_MS <= env.MAILPUSH_IMAP_POLL_INTERVAL_MS) {
      ctx.addIssue({
        code: 'custom',
        path: ['MAILPUSH_IMAP_POLL_INTERVAL_MS'],
        message: 'must be below MAILPUSH_IMAP_SOCKET_TIMEOUT_MS, or a polled connection is dropped between polls',
      });
    }
    if (env.MAILPUSH_RECONNECT_MAX_MS < env.MAILPUSH_RECONNECT_BASE_MS) {
      ctx.addIssue({
        code: 'custom',
        path: ['MAILPUSH_RECONNECT_MAX_MS'],
        message: 'must be at least MAILPUSH_RECONNECT_BASE_MS',
      });
    }
    for (const name of ['GOOGLE', 'MICROSOFT', 'YAHOO'] as const) {
      const id = env[`OAUTH_${name}_CLIENT_ID`];
      const secret = env[`OAUTH_${name}_CLIENT_SECRET`];
      if (Boolean(id) !== Boolean(secret)) {
        ctx.addIssue({
          code: 'custom',
          path: [`OAUTH_${name}_CLIENT_ID`],
          message: `sign-in needs both OAUTH_${name}_CLIENT_ID and OAUTH_${name}_CLIENT_SECRET, or neither`,
        });
      }
    }
    if (env.REDIS_CA_FILE && (env.REDIS_SENTINELS || env.REDIS_CLUSTER_NODES)) {
      ctx.addIssue({
        code: 'custom',
        path: ['REDIS_CA_FILE'],
        message:
          'TLS to Redis is supported with a rediss:// REDIS_URL only, not with REDIS_SENTINELS or REDIS_CLUSTER_NODES',
      });
    } else if (env.REDIS_CA_FILE && !env.REDIS_URL?.startsWith('rediss://')) {
      ctx.addIssue({ code: 'custom', path: ['REDIS_CA_FILE'], message: 'needs a rediss:// REDIS_URL (TLS)' });
    }
    const vapid = [env.VAPID_PUBLIC_KEY, env.VAPID_PRIVATE_KEY, env.VAPID_SUBJECT];
    if (vapid.some(Boolean) && !vapid.every(Boolean)) {
      ctx.addIssue({
        code: 'custom',
        path: ['VAPID_PUBLIC_KEY'],
        message: 'Web Push needs all of VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY and VAPID_SUBJECT, or none',
      });
    }
  });

export type Env = z.output<typeof envSchema>;

/** Variables whose values must never be printed. */
export const SECRET_ENV_KEYS: ReadonlySet<keyof Env> = new Set([
  'MAILPUSH_MASTER_KEY',
  'MAILPUSH_ADMIN_TOKEN',
  'REDIS_URL',
  'REDIS_PASSWORD',
  'REDIS_SENTINEL_PASSWORD',
  'VAPID_PRIVATE_KEY',
  'OAUTH_GOOGLE_CLIENT_SECRET',
  'OAUTH_MICROSOFT_CLIENT_SECRET',
  'OAUTH_YAHOO_CLIENT_SECRET',
]);
