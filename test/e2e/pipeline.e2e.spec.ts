import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { startApnsFake, type ApnsFake } from '../fakes/apns-fake';
import { startFcmFake, type FcmFake } from '../fakes/fcm-fake';
import { eventually, freePort, startDovecot, startRedis, type DovecotHandle, type RedisHandle } from '../harness';
import { ApiClient } from '../support/api-client';
import { makeAdminToken, makeApnsKey, makeApnsToken, makeFcmToken, makeMasterKey, makeMessage } from '../support/factories';
import { RoleProcess } from '../support/role-process';

const TOPIC = 'com.example.mailpush';
const FCM_PROJECT = 'mailpush-test';

/** The whole pipeline on real parts: three role processes, real Redis, real Dovecot, strict push fakes. */
describe('pipeline end to end', { timeout: 180_000 }, () => {
  let redis: RedisHandle;
  let dovecot: DovecotHandle;
  let apns: ApnsFake;
  let fcm: FcmFake;
  let env: Record<string, string>;
  let api: RoleProcess;
  let worker: RoleProcess;
  let dispatcher: RoleProcess;
  let admin: ApiClient;
  let user: ApiClient;
  let queueRedis: Redis;
  const iosToken = makeApnsToken();
  const androidToken = makeFcmToken();

  /** Waits until no job is waiting, active or delayed in either queue. */
  async function quiescent(): Promise<void> {
    const queues = ['mail-events', 'deliveries'].map((name) => new Queue(name, { connection: queueRedis, prefix: 'mailpush' }));
    try {
      await eventually(
        async () => {
          for (const q of queues) {
            const counts = await q.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children');
            assert.deepEqual(Object.values(counts).reduce((a, b) => a + b, 0), 0, `${q.name} not drained: ${JSON.stringify(counts)}`);
          }
        },
        { timeoutMs: 20_000 },
      );
    } finally {
      await Promise.all(queues.map((q) => q.close()));
    }
  }

  const apnsFor = (token: string) => apns.delivered().filter((r) => r.token === token);
  const fcmFor = (token: string) => fcm.delivered().filter((r) => r.token === token);

  before(async () => {
    const key = makeApnsKey();
    [redis, dovecot, apns, fcm] = await Promise.all([
      startRedis(),
      startDovecot({ users: [{ user: 'alice', password: 'alice-secret-pw' }] }),
      startApnsFake({ teamId: key.teamId, keyId: key.keyId, publicKeyPem: key.publicKeyPem, topic: TOPIC }),
      startFcmFake({ projectId: FCM_PROJECT }),
    ]);
    queueRedis = new Redis(redis.url, { maxRetriesPerRequest: null });
    const port = await freePort();
    env = {
      REDIS_URL: redis.url,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      MAILPUSH_MASTER_KEY: makeMasterKey(),
      MAILPUSH_ADMIN_TOKEN: makeAdminToken(),
      MAILPUSH_ALLOW_PRIVATE_HOSTS: 'true',
      MAILPUSH_LEASE_TTL_MS: '3000',
      APNS_KEY_FILE: key.keyFile,
      APNS_KEY_ID: key.keyId,
      APNS_TEAM_ID: key.teamId,
      APNS_TOPIC: TOPIC,
      APNS_ENDPOINT: apns.url,
      FCM_ENDPOINT: fcm.url,
      FCM_PROJECT_ID: FCM_PROJECT,
    };
    api = RoleProcess.start('api', env);
    worker = RoleProcess.start('worker', env);
    dispatcher = RoleProcess.start('dispatcher', env);
    admin = new ApiClient(`http://127.0.0.1:${port}`, env.MAILPUSH_ADMIN_TOKEN);
    await eventually(async () => assert.equal((await admin.get('/readyz')).status, 200), { timeoutMs: 30_000, message: 'api never became ready' });
  });

  after(async () => {
    await Promise.all([api?.stop(), worker?.stop(), dispatcher?.stop()]);
    await queueRedis?.quit();
    await Promise.all([apns?.close(), fcm?.close(), dovecot?.stop(), redis?.stop()]);
  });

  it('links a user, two phones and a mailbox through the API', async () => {
    const created = await admin.post<{ id: string; apiKey: string }>('/v1/users', {});
    assert.equal(created.status, 201);
    assert.match(created.body.id, /^usr_/);
    user = admin.withToken(created.body.apiKey);

    const ios = await user.post('/v1/devices', { platform: 'ios', token: iosToken, environment: 'sandbox' });
    assert.equal(ios.status, 201, JSON.stringify(ios.body));
    const android = await user.post('/v1/devices', { platform: 'android', token: androidToken });
    assert.equal(android.status, 201, JSON.stringify(android.body));

    const account = await user.post<{ id: string; status: string }>('/v1/accounts', {
      email: 'alice@example.test',
      provider: 'imap',
      imap: { host: dovecot.host, port: dovecot.port, tls: true },
      auth: { type: 'password', username: 'alice', password: 'alice-secret-pw' },
    });
    assert.equal(account.status, 201, JSON.stringify(account.body));
    assert.match(account.body.id, /^acc_/);
    await eventually(async () => {
      const live = await user.get<{ status: string }>(`/v1/accounts/${account.body.id}`);
      assert.equal(live.body.status, 'idle');
    });
  });

  it('notifies both phones once, with sender and subject, when a message arrives', async () => {
    const msg = makeMessage({ from: 'Ada Lovelace <ada@example.com>', subject: 'Analytical engine ✓' });
    await dovecot.deliver('alice', msg);
    await eventually(() => {
      assert.equal(apnsFor(iosToken).length, 1);
      assert.equal(fcmFor(androidToken).length, 1);
    });
    const push = apnsFor(iosToken)[0]!;
    assert.equal(push.headers['apns-push-type'], 'alert');
    assert.equal(push.headers['apns-priority'], '10');
    assert.equal(push.headers['apns-topic'], TOPIC);
    assert.ok(String(push.headers['apns-collapse-id']).startsWith('acc_'));
    const aps = (push.payload as { aps: { alert: { title: string; body: string } } }).aps;
    assert.deepEqual(aps.alert, { title: 'Ada Lovelace', body: 'Analytical engine ✓' });

    const android = fcmFor(androidToken)[0]!;
    const message = (android.body as { message: { notification: { title: string; body: string } } }).message;
    assert.deepEqual(message.notification, { title: 'Ada Lovelace', body: 'Analytical engine ✓' });
    await quiescent();
    assert.equal(apnsFor(iosToken).length, 1);
    assert.equal(fcmFor(androidToken).length, 1);
  });

  it('notifies mail that arrived while the worker was down, exactly once, after it returns', async () => {
    assert.equal(await worker.stop(), 0, `worker did not stop cleanly:\n${worker.logText().slice(-2000)}`);
    const first = makeMessage({ subject: 'While you were out 1' });
    const second = makeMessage({ subject: 'While you were out 2' });
    await dovecot.deliver('alice', first);
    await dovecot.deliver('alice', second);
    worker = RoleProcess.start('worker', env);
    await eventually(() => assert.equal(apnsFor(iosToken).length, 3), { timeoutMs: 30_000 });
    await eventually(() => assert.equal(fcmFor(androidToken).length, 3));
    await quiescent();
    const bodies = apnsFor(iosToken).map((r) => (r.payload as { aps: { alert: { body: string } } }).aps.alert.body);
    assert.deepEqual(bodies.slice(1).sort(), ['While you were out 1', 'While you were out 2']);
    assert.equal(apnsFor(iosToken).length, 3);
    assert.equal(fcmFor(androidToken).length, 3);
  });

  it('removes an iPhone whose token APNs declares unregistered, and only that one', async () => {
    const deadToken = makeApnsToken();
    apns.markUnregistered(deadToken);
    const dead = await user.post<{ id: string }>('/v1/devices', { platform: 'ios', token: deadToken, environment: 'production' });
    assert.equal(dead.status, 201);
    await dovecot.deliver('alice', makeMessage({ subject: 'Prune me' }));
    await eventually(async () => {
      const list = await user.get<{ devices: { id: string }[] }>('/v1/devices');
      assert.ok(!list.body.devices.some((d) => d.id === dead.body.id), 'dead device still listed');
      assert.equal(list.body.devices.length, 2);
    });
    await eventually(() => assert.equal(apnsFor(iosToken).length, 4));
  });
});
