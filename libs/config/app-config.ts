import { createECDH } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { z } from 'zod';
import { parseProvidersFile, type ProviderEntry } from '@mailpush/providers/provider-file.schema';
import { resolveProviders } from '@mailpush/providers/provider-catalog';
import type { Provider } from '@mailpush/providers/provider.model';
import { envSchema, type Env } from './config.schema';

export interface ApnsConfig {
  keyPem: string;
  keyId: string;
  teamId: string;
  topic: string;
  /** Replaces Apple's hosts (both environments), for a local fake. */
  endpoint?: { host: string; port: number };
  /** Age at which the team's shared provider token (JWT) is replaced: 20-55 min. */
  jwtRefreshMs: number;
  /** Which HTTP/2 client sends the requests (APNS_CLIENT). */
  client: Env['APNS_CLIENT'];
}

export interface WebPushConfig {
  /** VAPID application server key pair, base64url (the public key is what browsers subscribe with). */
  publicKey: string;
  privateKey: string;
  /** `mailto:` or `https:` contact for push services. */
  subject: string;
}

export interface PushConfig {
  /** How long a push service keeps trying to reach an offline device (APNs expiration, FCM ttl, Web Push TTL). */
  ttlSeconds: number;
  /** Requests in flight per transport per process. */
  maxInFlight: number;
  /** Delivery attempts before a delivery goes to the dead-letter list. */
  deliveryAttempts: number;
  /** Per device: this many messages per window are notified one by one, the rest as one summary. */
  burst: { budget: number; windowMs: number };
}

export interface FcmConfig {
  projectId: string;
  /** Parsed service-account JSON; absent in emulator mode (endpoint set, static bearer token). */
  serviceAccount?: { project_id: string; client_email: string; private_key: string };
  endpoint?: { host: string; port: number; origin: string };
}

export interface RedisNode {
  host: string;
  port: number;
}

/**
 * Where Redis is: one server (URL), a Sentinel-monitored primary, or a Redis Cluster. `ca`: PEM of
 * a private CA that signs the server's certificate (REDIS_CA_FILE, `rediss://` only).
 */
export type RedisTarget =
  | { mode: 'standalone'; url: string; ca?: string }
  | { mode: 'sentinel'; sentinels: RedisNode[]; name: string; sentinelPassword?: string; password?: string }
  | { mode: 'cluster'; nodes: RedisNode[]; password?: string };

/** Who may make the relay log in where, and how (docs/security.md). */
export interface ImapPolicyConfig {
  /** Ports an account may name; 'any' for test setups on high ports. */
  allowedPorts: number[] | 'any';
  /** `tls:false` accounts may stay in cleartext when the server offers no STARTTLS. */
  allowPlaintext: boolean;
}

export interface RateLimitConfig {
  points: number;
  durationS: number;
}

export interface LimitsConfig {
  /** Login checks the relay makes on a caller's behalf (failed or in flight; successes are given back). */
  loginPerUser: RateLimitConfig;
  loginPerAddress: RateLimitConfig;
  loginPerHost: RateLimitConfig;
  accountsPerUser: number;
  devicesPerUser: number;
}

export interface AppConfig {
  redis: RedisTarget;
  /** Express `trust proxy`: false (default), true, a hop count, or proxy addresses. */
  http: { host: string; port: number; publicUrl?: string; trustProxy: boolean | number | string };
  /** Ops port (`/healthz`, `/readyz`, `/metrics`; 0 = off); undefined: the role's default. */
  opsPort: number | undefined;
  /** How often the api process holding the collector lease recomputes the cluster-wide gauges. */
  clusterMetricsIntervalMs: number;
  logLevel: Env['LOG_LEVEL'];
  masterKeys: { version: string; key: Buffer }[];
  adminToken: string;
  allowPrivateHosts: boolean;
  imapPolicy: ImapPolicyConfig;
  limits: LimitsConfig;
  queuePrefix: string;
  workerId: string;
  leaseTtlMs: number;
  /** Connections stop this long before a slot lease would run out unrenewed. */
  leaseMarginMs: number;
  /** Safety-net re-read of a worker's own slots. */
  slotReconcileMs: number;
  imap: ImapWatchConfig;
  dispatchConcurrency: number;
  apns?: ApnsConfig;
  fcm?: FcmConfig;
  webPush?: WebPushConfig;
  push: PushConfig;
  /** Providers in force: built-ins, OAuth clients from OAUTH_*, MAILPUSH_PROVIDERS_FILE (libs/providers). */
  providers: Provider[];
  /** `<PUBLIC_URL>/v1/oauth/callback`; set whenever a provider has sign-in on. */
  oauthRedirectUri?: string;
  /** An OAuth2 access token is refreshed this long before it expires. */
  oauthRefreshMarginMs: number;
}

/** How workers hold IMAP connections; docs/watching.md and docs/configuration.md give the reason for each default. */
export interface ImapWatchConfig {
  connectTimeoutMs: number;
  /** imapflow's inactivity watchdog: the backstop behind the NOOP probe. */
  socketTimeoutMs: number;
  reIdleMs: number;
  /** Silence (no byte from the server) after which a NOOP probe is sent. */
  probeAfterMs: number;
  /** A probe unanswered for this long declares the connection dead. */
  probeTimeoutMs: number;
  /** STATUS poll interval for servers without IDLE. */
  pollIntervalMs: number;
  reconnect: { baseMs: number; maxMs: number };
  /** A catch-up of more messages than this becomes one summary event. */
  catchUpSummaryThreshold: number;
  /** Connect pacing (token buckets, connects per second; bursts of one second's worth). */
  pacing: { perWorker: number; perHost: number; perHostFleet: number };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const serviceAccountSchema = z.object({ project_id: z.string(), client_email: z.string(), private_key: z.string() });

/** The three fields FCM needs of a Google service-account file; undefined when one is missing. */
function readServiceAccount(raw: string): z.infer<typeof serviceAccountSchema> | 'not_json' | undefined {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return 'not_json';
  }
  const parsed = serviceAccountSchema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}

function readFileOrProblem(name: string, path: string, problems: string[]): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    problems.push(`${name}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    return undefined;
  }
}

/** The only reader of process.env: validates everything at once and names every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => `${issue.path.join('.') || 'environment'}: ${issue.message}`),
    );
  }
  const e = parsed.data;
  const problems: string[] = [];

  let apns: ApnsConfig | undefined;
  if (e.APNS_KEY_FILE && e.APNS_KEY_ID && e.APNS_TEAM_ID && e.APNS_TOPIC) {
    const keyPem = readFileOrProblem('APNS_KEY_FILE', e.APNS_KEY_FILE, problems);
    if (keyPem !== undefined && !keyPem.includes('PRIVATE KEY')) {
      problems.push('APNS_KEY_FILE: not a PEM private key (expected the .p8 file from Apple)');
    }
    if (keyPem) {
      apns = {
        keyPem,
        keyId: e.APNS_KEY_ID,
        teamId: e.APNS_TEAM_ID,
        topic: e.APNS_TOPIC,
        endpoint: e.APNS_ENDPOINT ? { host: e.APNS_ENDPOINT.host, port: e.APNS_ENDPOINT.port } : undefined,
        jwtRefreshMs: e.APNS_JWT_REFRESH_MS,
        client: e.APNS_CLIENT,
      };
    }
  }

  let fcm: FcmConfig | undefined;
  if (e.FCM_SERVICE_ACCOUNT_FILE) {
    const raw = readFileOrProblem('FCM_SERVICE_ACCOUNT_FILE', e.FCM_SERVICE_ACCOUNT_FILE, problems);
    if (raw !== undefined) {
      const account = readServiceAccount(raw);
      if (account === 'not_json') {
        problems.push('FCM_SERVICE_ACCOUNT_FILE: not valid JSON');
      } else if (!account) {
        problems.push('FCM_SERVICE_ACCOUNT_FILE: needs project_id, client_email and private_key');
      } else {
        fcm = { projectId: e.FCM_PROJECT_ID ?? account.project_id, serviceAccount: account, endpoint: e.FCM_ENDPOINT };
      }
    }
  } else if (e.FCM_ENDPOINT && e.FCM_PROJECT_ID) {
    fcm = { projectId: e.FCM_PROJECT_ID, endpoint: e.FCM_ENDPOINT };
  }

  let webPush: WebPushConfig | undefined;
  if (e.VAPID_PUBLIC_KEY && e.VAPID_PRIVATE_KEY && e.VAPID_SUBJECT) {
    if (vapidPublicKeyOf(e.VAPID_PRIVATE_KEY) !== e.VAPID_PUBLIC_KEY) {
      problems.push('VAPID_PUBLIC_KEY: is not the public half of VAPID_PRIVATE_KEY');
    } else {
      webPush = { publicKey: e.VAPID_PUBLIC_KEY, privateKey: e.VAPID_PRIVATE_KEY, subject: e.VAPID_SUBJECT };
    }
  }

  let fileEntries: ProviderEntry[] = [];
  if (e.MAILPUSH_PROVIDERS_FILE) {
    const raw = readFileOrProblem('MAILPUSH_PROVIDERS_FILE', e.MAILPUSH_PROVIDERS_FILE, problems);
    if (raw !== undefined) {
      const parsed = parseProvidersFile(raw);
      problems.push(...parsed.problems.map((p) => `MAILPUSH_PROVIDERS_FILE: ${p}`));
      fileEntries = parsed.entries;
    }
  }
  const client = (id: string | undefined, secret: string | undefined) =>
    id && secret ? { clientId: id, clientSecret: secret } : undefined;
  const providers = resolveProviders({
    clients: {
      google: client(e.OAUTH_GOOGLE_CLIENT_ID, e.OAUTH_GOOGLE_CLIENT_SECRET),
      microsoft: client(e.OAUTH_MICROSOFT_CLIENT_ID, e.OAUTH_MICROSOFT_CLIENT_SECRET),
      yahoo: client(e.OAUTH_YAHOO_CLIENT_ID, e.OAUTH_YAHOO_CLIENT_SECRET),
    },
    microsoftTenant: e.OAUTH_MICROSOFT_TENANT,
    fileEntries,
  });
  const withSignIn = providers.filter((p) => p.oauth).map((p) => p.id);
  if (withSignIn.length > 0 && !e.PUBLIC_URL) {
    problems.push(
      `PUBLIC_URL: required when a provider has sign-in on (${withSignIn.join(', ')}): the redirect URI is <PUBLIC_URL>/v1/oauth/callback`,
    );
  }

  let redisCa: string | undefined;
  if (e.REDIS_CA_FILE) {
    redisCa = readFileOrProblem('REDIS_CA_FILE', e.REDIS_CA_FILE, problems);
    if (redisCa !== undefined && !redisCa.includes('BEGIN CERTIFICATE')) {
      problems.push('REDIS_CA_FILE: not a PEM certificate');
    }
  }

  if (problems.length > 0) throw new ConfigError(problems);

  return {
    redis: redisTarget(e, redisCa),
    http: { host: e.HOST, port: e.PORT, publicUrl: e.PUBLIC_URL, trustProxy: trustProxy(e.MAILPUSH_TRUST_PROXY) },
    opsPort: e.MAILPUSH_OPS_PORT,
    clusterMetricsIntervalMs: e.MAILPUSH_CLUSTER_METRICS_EVERY_MS,
    logLevel: e.LOG_LEVEL,
    masterKeys: e.MAILPUSH_MASTER_KEY,
    adminToken: e.MAILPUSH_ADMIN_TOKEN,
    allowPrivateHosts: e.MAILPUSH_ALLOW_PRIVATE_HOSTS,
    imapPolicy: { allowedPorts: e.MAILPUSH_ALLOWED_IMAP_PORTS, allowPlaintext: e.MAILPUSH_ALLOW_PLAINTEXT_IMAP },
    limits: {
      loginPerUser: e.MAILPUSH_LOGIN_LIMIT_PER_USER,
      loginPerAddress: e.MAILPUSH_LOGIN_LIMIT_PER_ADDRESS,
      loginPerHost: e.MAILPUSH_LOGIN_LIMIT_PER_HOST,
      accountsPerUser: e.MAILPUSH_MAX_ACCOUNTS_PER_USER,
      devicesPerUser: e.MAILPUSH_MAX_DEVICES_PER_USER,
    },
    // BullMQ on Redis Cluster needs every key of a queue on one hash slot: a braced prefix.
    queuePrefix:
      e.REDIS_CLUSTER_NODES && !e.MAILPUSH_QUEUE_PREFIX.startsWith('{')
        ? `{${e.MAILPUSH_QUEUE_PREFIX}}`
        : e.MAILPUSH_QUEUE_PREFIX,
    workerId: e.MAILPUSH_WORKER_ID ?? `${hostname()}-${process.pid}`,
    leaseTtlMs: e.MAILPUSH_LEASE_TTL_MS,
    leaseMarginMs: e.MAILPUSH_LEASE_MARGIN_MS ?? Math.floor(e.MAILPUSH_LEASE_TTL_MS / 5),
    slotReconcileMs: e.MAILPUSH_SLOT_RECONCILE_MS,
    imap: {
      connectTimeoutMs: e.MAILPUSH_IMAP_CONNECT_TIMEOUT_MS,
      socketTimeoutMs: e.MAILPUSH_IMAP_SOCKET_TIMEOUT_MS,
      reIdleMs: e.MAILPUSH_IMAP_REIDLE_MS,
      probeAfterMs: e.MAILPUSH_IMAP_PROBE_AFTER_MS,
      probeTimeoutMs: e.MAILPUSH_IMAP_PROBE_TIMEOUT_MS,
      pollIntervalMs: e.MAILPUSH_IMAP_POLL_INTERVAL_MS,
      reconnect: { baseMs: e.MAILPUSH_RECONNECT_BASE_MS, maxMs: e.MAILPUSH_RECONNECT_MAX_MS },
      catchUpSummaryThreshold: e.MAILPUSH_CATCHUP_SUMMARY_THRESHOLD,
      pacing: {
        perWorker: e.MAILPUSH_CONNECT_RATE_PER_WORKER,
        perHost: e.MAILPUSH_CONNECT_RATE_PER_HOST,
        perHostFleet: e.MAILPUSH_CONNECT_RATE_PER_HOST_FLEET,
      },
    },
    dispatchConcurrency: e.MAILPUSH_DISPATCH_CONCURRENCY,
    apns,
    fcm,
    webPush,
    push: {
      ttlSeconds: e.MAILPUSH_PUSH_TTL_S,
      maxInFlight: e.MAILPUSH_PUSH_MAX_IN_FLIGHT,
      deliveryAttempts: e.MAILPUSH_DELIVERY_ATTEMPTS,
      burst: { budget: e.MAILPUSH_BURST_BUDGET, windowMs: e.MAILPUSH_BURST_WINDOW_MS },
    },
    providers,
    oauthRefreshMarginMs: e.MAILPUSH_OAUTH_REFRESH_MARGIN_MS,
    ...(withSignIn.length > 0 && e.PUBLIC_URL
      ? { oauthRedirectUri: `${e.PUBLIC_URL.replace(/\/+$/, '')}/v1/oauth/callback` }
      : {}),
  };
}

function redisTarget(e: Env, ca: string | undefined): RedisTarget {
  if (e.REDIS_SENTINELS && e.REDIS_SENTINEL_NAME) {
    return {
      mode: 'sentinel',
      sentinels: e.REDIS_SENTINELS,
      name: e.REDIS_SENTINEL_NAME,
      ...(e.REDIS_SENTINEL_PASSWORD ? { sentinelPassword: e.REDIS_SENTINEL_PASSWORD } : {}),
      ...(e.REDIS_PASSWORD ? { password: e.REDIS_PASSWORD } : {}),
    };
  }
  if (e.REDIS_CLUSTER_NODES) {
    return {
      mode: 'cluster',
      nodes: e.REDIS_CLUSTER_NODES,
      ...(e.REDIS_PASSWORD ? { password: e.REDIS_PASSWORD } : {}),
    };
  }
  return { mode: 'standalone', url: e.REDIS_URL ?? 'redis://127.0.0.1:6379', ...(ca ? { ca } : {}) };
}

/** Off unless the operator says a proxy sits in front: otherwise X-Forwarded-For would let anyone pick their address. */
function trustProxy(raw: string): boolean | number | string {
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  return /^[0-9]+$/.test(raw) ? Number(raw) : raw;
}

/** The uncompressed P-256 public key (base64url) of a VAPID private key, or undefined if it is not one. */
function vapidPublicKeyOf(privateKey: string): string | undefined {
  try {
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(Buffer.from(privateKey, 'base64url'));
    return ecdh.getPublicKey().toString('base64url');
  } catch {
    return undefined;
  }
}
