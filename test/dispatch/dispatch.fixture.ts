import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import webpush from 'web-push';
import { loadConfig } from '@mailpush/config';
import { JOB_DEFAULTS, JobName, QueueName, dedupJobOptions, messageKey, type MailEvent } from '@mailpush/queue';
import { DeviceRepository, UserRepository, newId, type Device, type NewDevice } from '@mailpush/store';
import { startApnsFake, type ApnsFake } from '../fakes/apns-fake';
import { startFcmFake, type FcmFake } from '../fakes/fcm-fake';
import { startWebPushFake, type WebPushFake } from '../fakes/web-push-fake';
import { eventually, freePort, startRedis, type RedisHandle } from '../harness';
import { ApiClient } from '../support/api-client';
import { makeApnsKey } from '../support/factories';
import { RoleProcess } from '../support/role-process';
import { waitForQueuesDrained } from '../support/queue-drain';

import { APNS_TOPIC, FCM_PROJECT, roleEnv } from '../support/pipeline.fixture';

export { APNS_TOPIC, FCM_PROJECT };

/**
 * Real Redis, the strict APNs / FCM / Web Push fakes and real dispatcher processes (plus the API
 * when a test needs it). Mail events are enqueued on `mail-events` exactly as a worker does, so
 * these specs need no IMAP server.
 */
export interface DispatchRig {
  redis: RedisHandle;
  apns: ApnsFake;
  fcm: FcmFake;
  web: WebPushFake;
  env: Record<string, string>;
  vapidPublicKey: string;
  dispatchers: RoleProcess[];
  api?: RoleProcess;
  /** Admin client of the API (only with `api: true`). */
  admin: ApiClient;
  client: Redis;
  devices: DeviceRepository;
  users: UserRepository;
  startDispatcher(env?: Record<string, string>): RoleProcess;
  /** A user and devices written straight into Redis, as the API would. */
  makeUser(devices: NewDevice[]): Promise<{ userId: string; devices: Device[] }>;
  enqueue(events: MailEvent[]): Promise<void>;
  /** Waits until no job is waiting, active or delayed in either queue. */
  quiescent(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startDispatchRig(
  options: { dispatchers?: number; api?: boolean; env?: Record<string, string> } = {},
): Promise<DispatchRig> {
  const key = makeApnsKey();
  const [redis, apns, fcm, web] = await Promise.all([
    startRedis(),
    startApnsFake({ teamId: key.teamId, keyId: key.keyId, publicKeyPem: key.publicKeyPem, topic: APNS_TOPIC }),
    startFcmFake({ projectId: FCM_PROJECT }),
    startWebPushFake(),
  ]);
  const vapid = webpush.generateVAPIDKeys();
  const port = await freePort();
  const env: Record<string, string> = {
    ...roleEnv({ redisUrl: redis.url, port, apnsKey: key, apnsUrl: apns.url, fcmUrl: fcm.url }),
    VAPID_PUBLIC_KEY: vapid.publicKey,
    VAPID_PRIVATE_KEY: vapid.privateKey,
    VAPID_SUBJECT: 'mailto:ops@example.com',
    // Fan-out specs give one user many devices; the quota has its own spec.
    MAILPUSH_MAX_DEVICES_PER_USER: '1000',
    ...options.env,
  };
  const client = new Redis(redis.url, { maxRetriesPerRequest: null });
  const mailEvents = new Queue<MailEvent, unknown, JobName.NewMail>(QueueName.MailEvents, {
    connection: client,
    prefix: 'mailpush',
    defaultJobOptions: JOB_DEFAULTS[QueueName.MailEvents],
  });
  // Device tokens are sealed at rest with the roles' master key.
  const devices = new DeviceRepository(client, loadConfig(env));
  const users = new UserRepository(client);
  const dispatchers: RoleProcess[] = [];
  const startDispatcher = (extra: Record<string, string> = {}): RoleProcess => {
    const proc = RoleProcess.start('dispatcher', { ...env, ...extra });
    dispatchers.push(proc);
    return proc;
  };
  for (let i = 0; i < (options.dispatchers ?? 1); i++) startDispatcher();
  const api = options.api ? RoleProcess.start('api', env) : undefined;
  const admin = new ApiClient(`http://127.0.0.1:${port}`, env.MAILPUSH_ADMIN_TOKEN);
  if (api) {
    await eventually(async () => assert.equal((await admin.get('/readyz')).status, 200), {
      timeoutMs: 30_000,
      message: 'api never became ready',
    });
  }

  return {
    redis,
    apns,
    fcm,
    web,
    env,
    vapidPublicKey: vapid.publicKey,
    dispatchers,
    ...(api ? { api } : {}),
    admin,
    client,
    devices,
    users,
    startDispatcher,
    async makeUser(list) {
      const { user } = await users.create();
      const made: Device[] = [];
      for (const d of list) made.push((await devices.upsert(user.id, d)).device);
      return { userId: user.id, devices: made };
    },
    async enqueue(events) {
      await mailEvents.addBulk(
        events.map((data) => ({ name: JobName.NewMail, data, opts: dedupJobOptions(data.messageKey) })),
      );
    },
    quiescent: (timeoutMs = 20_000) => waitForQueuesDrained(client, timeoutMs),
    async stop() {
      await Promise.all([...dispatchers, ...(api ? [api] : [])].map((r) => r.stop()));
      await mailEvents.close();
      await client.quit();
      await Promise.all([apns.close(), fcm.close(), web.close(), redis.stop()]);
    },
  };
}

/** A new-mail event as the worker enqueues it. */
export function makeMailEvent(
  userId: string,
  overrides: Partial<MailEvent> & { accountId?: string; uid?: number } = {},
): MailEvent {
  const accountId = overrides.accountId ?? newId('acc');
  const uidValidity = overrides.uidValidity ?? 7;
  const uid = overrides.uid ?? 1 + randomBytes(3).readUIntBE(0, 3);
  return {
    accountId,
    userId,
    uidValidity,
    uid,
    messageKey: messageKey(accountId, uidValidity, uid),
    from: { name: 'Ada Lovelace', address: 'ada@example.com' },
    subject: `Analytical engine ${randomBytes(3).toString('hex')}`,
    detectedAt: Date.now(),
    ...overrides,
  };
}

/** Creates a user through the API and returns a client holding its API key, and its id. */
export async function createApiUser(admin: ApiClient): Promise<{ client: ApiClient; userId: string; apiKey: string }> {
  const created = await admin.post<{ id: string; apiKey: string }>('/v1/users', {});
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return { client: admin.withToken(created.body.apiKey), userId: created.body.id, apiKey: created.body.apiKey };
}
