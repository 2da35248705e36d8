import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { startApnsFake, type ApnsFake } from '../fakes/apns-fake';
import { startFcmFake, type FcmFake } from '../fakes/fcm-fake';
import {
  eventually,
  freePort,
  startDovecot,
  startRedis,
  type DovecotHandle,
  type DovecotOptions,
  type RedisHandle,
} from '../harness';
import { ApiClient } from './api-client';
import { makeAdminToken, makeApnsKey, makeMasterKey } from './factories';
import { RoleProcess, type Role } from './role-process';
import { waitForQueuesDrained } from './queue-drain';

export const APNS_TOPIC = 'com.example.mailpush';
export const FCM_PROJECT = 'mailpush-test';

/** The environment every role gets in the integration tests: real Redis, the push fakes, loopback IMAP allowed. */
export function roleEnv(o: {
  redisUrl: string;
  port: number;
  apnsKey: { keyFile: string; keyId: string; teamId: string };
  apnsUrl: string;
  fcmUrl: string;
}): Record<string, string> {
  return {
    REDIS_URL: o.redisUrl,
    PORT: String(o.port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    MAILPUSH_MASTER_KEY: makeMasterKey(),
    MAILPUSH_ADMIN_TOKEN: makeAdminToken(),
    MAILPUSH_ALLOW_PRIVATE_HOSTS: 'true',
    // The harness listens on high loopback ports; production allows 993 and 143 only.
    MAILPUSH_ALLOWED_IMAP_PORTS: '*',
    MAILPUSH_OPS_PORT: '0',
    APNS_KEY_FILE: o.apnsKey.keyFile,
    APNS_KEY_ID: o.apnsKey.keyId,
    APNS_TEAM_ID: o.apnsKey.teamId,
    APNS_TOPIC,
    APNS_ENDPOINT: o.apnsUrl,
    FCM_ENDPOINT: o.fcmUrl,
    FCM_PROJECT_ID: FCM_PROJECT,
  };
}

export interface Pipeline {
  redis: RedisHandle;
  dovecot: DovecotHandle;
  apns: ApnsFake;
  fcm: FcmFake;
  env: Record<string, string>;
  admin: ApiClient;
  roles: Map<Role, RoleProcess>;
  startRole(role: Role): RoleProcess;
  /** Waits until no job is waiting, active or delayed in either queue. */
  quiescent(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Real Redis, real Dovecot, the strict APNs and FCM fakes, and mailpush's three roles as separate
 * processes configured against them.
 */
export async function startPipeline(options: {
  users: { user: string; password: string }[];
  roles?: Role[];
  env?: Record<string, string>;
  /** The API's port, when a test must know it before the roles start (an OAuth redirect URI). */
  port?: number;
  dovecot?: Omit<DovecotOptions, 'users'>;
  /** Environment that depends on the started Dovecot (e.g. a providers file naming its port). */
  envFor?: (dovecot: DovecotHandle) => Record<string, string>;
  /** Extra variables for one role only (e.g. its own MAILPUSH_OPS_PORT). */
  roleEnv?: Partial<Record<Role, Record<string, string>>>;
  /**
   * Redis other than one redis-server (Sentinel, Cluster): the roles' environment for it (in place
   * of REDIS_URL), how the test reaches it, and the queue prefix the roles use there.
   */
  redis?: { env: Record<string, string>; connect(): Redis; handle: RedisHandle; queuePrefix?: string };
}): Promise<Pipeline> {
  const key = makeApnsKey();
  const [redis, dovecot, apns, fcm] = await Promise.all([
    options.redis ? Promise.resolve(options.redis.handle) : startRedis(),
    startDovecot({ ...options.dovecot, users: options.users }),
    startApnsFake({ teamId: key.teamId, keyId: key.keyId, publicKeyPem: key.publicKeyPem, topic: APNS_TOPIC }),
    startFcmFake({ projectId: FCM_PROJECT }),
  ]);
  const port = options.port ?? (await freePort());
  const env: Record<string, string> = {
    ...roleEnv({ redisUrl: redis.url, port, apnsKey: key, apnsUrl: apns.url, fcmUrl: fcm.url }),
    MAILPUSH_LEASE_TTL_MS: '3000',
    ...options.env,
    ...options.envFor?.(dovecot),
  };
  if (options.redis) {
    delete env.REDIS_URL;
    Object.assign(env, options.redis.env);
  }
  const roles = new Map<Role, RoleProcess>();
  const startRole = (role: Role): RoleProcess => {
    const proc = RoleProcess.start(role, { ...env, ...options.roleEnv?.[role] });
    roles.set(role, proc);
    return proc;
  };
  for (const role of options.roles ?? ['api', 'worker', 'dispatcher']) startRole(role);
  const admin = new ApiClient(`http://127.0.0.1:${port}`, env.MAILPUSH_ADMIN_TOKEN);
  await eventually(async () => assert.equal((await admin.get('/readyz')).status, 200), {
    // Roles on Redis Sentinel or Cluster take longer to connect on a loaded machine.
    timeoutMs: options.redis ? 60_000 : 30_000,
    message: 'api never became ready',
  });
  const queueRedis = options.redis ? options.redis.connect() : new Redis(redis.url, { maxRetriesPerRequest: null });
  // A failover (Sentinel spec) makes this connection fail for a while: expected, not a crash.
  queueRedis.on('error', () => undefined);

  return {
    redis,
    dovecot,
    apns,
    fcm,
    env,
    admin,
    roles,
    startRole,
    quiescent: (timeoutMs = 20_000) =>
      waitForQueuesDrained(queueRedis, timeoutMs, options.redis?.queuePrefix ?? 'mailpush'),
    async stop() {
      await Promise.all([...roles.values()].map((r) => r.stop()));
      await queueRedis.quit();
      await Promise.all([apns.close(), fcm.close(), dovecot.stop(), redis.stop()]);
    },
  };
}

/** Creates a user through the API and returns a client holding its API key. */
export async function createUser(admin: ApiClient): Promise<ApiClient> {
  const created = await admin.post<{ id: string; apiKey: string }>('/v1/users', {});
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return admin.withToken(created.body.apiKey);
}

/** Links a Dovecot user's INBOX through the API and waits until a worker watches it. */
export async function linkAccount(
  user: ApiClient,
  dovecot: DovecotHandle,
  login: { user: string; password: string },
): Promise<string> {
  const account = await user.post<{ id: string }>('/v1/accounts', {
    email: `${login.user}@example.test`,
    provider: 'imap',
    imap: { host: dovecot.host, port: dovecot.port, tls: true },
    auth: { type: 'password', username: login.user, password: login.password },
  });
  assert.equal(account.status, 201, JSON.stringify(account.body));
  await eventually(async () => {
    const live = await user.get<{ status: string }>(`/v1/accounts/${account.body.id}`);
    assert.equal(live.body.status, 'idle');
  });
  return account.body.id;
}
