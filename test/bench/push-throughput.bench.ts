/**
 * Push throughput of one dispatcher process: deliveries enqueued on `deliveries` in a real Redis,
 * sent by a real dispatcher process to the strict APNs and FCM fakes (loopback, TLS). Three phases:
 * N iOS deliveries, N Android deliveries, then N of each mixed. Prints notifications per second,
 * the p50/p99 from enqueue to the fake's receipt, and the dispatcher's CPU per notification (the
 * figure that does not depend on what else shares the machine: here the fakes and Redis do).
 * Run: npm run bench:push [-- <deliveries per platform> [<dispatcher concurrency>]]
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { loadConfig } from '../../libs/config';
import { JOB_DEFAULTS, JobName, QueueName, type DeliveryJob } from '../../libs/queue';
import { DeviceRepository, UserRepository, type Device, type NewDevice } from '../../libs/store';
import { makeMailEvent } from '../dispatch/dispatch.fixture';
import { startApnsFake, type ApnsRecordedRequest } from '../fakes/apns-fake';
import { startFcmFake, type FcmRecordedRequest } from '../fakes/fcm-fake';
import { eventually, startRedis } from '../harness';
import { makeAdminToken, makeApnsKey, makeApnsToken, makeFcmToken, makeMasterKey } from '../support/factories';

const TOPIC = 'com.example.mailpush';
const PROJECT = 'mailpush-bench';
const DEVICES_PER_USER = 100;
const ENQUEUE_BATCH = 1000;
const PHASE_TIMEOUT_MS = 120_000;

function percentile(sorted: number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, i)] ?? NaN;
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
function cpuSeconds(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    // utime and stime: fields 14 and 15 of stat, in clock ticks (100 per second on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

function startDispatcher(env: Record<string, string>): { child: ChildProcess; stop(): Promise<void> } {
  const child = spawn(process.execPath, [resolve(__dirname, '../../apps/dispatcher/src/main.js')], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  process.once('exit', () => child.kill('SIGKILL'));
  return {
    child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

type Received = Pick<ApnsRecordedRequest | FcmRecordedRequest, 'token' | 'receivedAt'>;

async function main(): Promise<void> {
  const perPlatform = Math.min(50_000, Math.max(100, Number(process.argv[2] ?? 5000)));
  const concurrency = Math.min(2000, Math.max(1, Number(process.argv[3] ?? 256)));
  const key = makeApnsKey();
  const [redis, apns, fcm] = await Promise.all([
    startRedis(),
    startApnsFake({ teamId: key.teamId, keyId: key.keyId, publicKeyPem: key.publicKeyPem, topic: TOPIC }),
    startFcmFake({ projectId: PROJECT }),
  ]);
  const client = new Redis(redis.url, { maxRetriesPerRequest: null });
  const deliveries = new Queue<DeliveryJob, unknown, JobName.Deliver>(QueueName.Deliveries, {
    connection: client,
    prefix: 'mailpush',
    defaultJobOptions: JOB_DEFAULTS[QueueName.Deliveries],
  });
  const masterKey = makeMasterKey();
  // Device tokens are sealed at rest: the repository and the dispatcher share the master key.
  const devices = new DeviceRepository(
    client,
    loadConfig({
      MAILPUSH_MASTER_KEY: masterKey,
      MAILPUSH_ADMIN_TOKEN: makeAdminToken(),
      MAILPUSH_MAX_DEVICES_PER_USER: String(DEVICES_PER_USER),
    }),
  );
  const users = new UserRepository(client);
  const received = (): Received[] => [...apns.delivered(), ...fcm.delivered()];
  let dispatcher: ReturnType<typeof startDispatcher> | undefined;

  async function register(count: number, make: (i: number) => NewDevice): Promise<Device[]> {
    const made: Device[] = [];
    let userId = '';
    for (let i = 0; i < count; i++) {
      if (i % DEVICES_PER_USER === 0) userId = (await users.create()).user.id;
      made.push((await devices.upsert(userId, make(i))).device);
    }
    return made;
  }

  /** Enqueues one delivery per device and waits until the fakes have every one. */
  async function phase(name: string, targets: Device[]): Promise<void> {
    const enqueuedAt = new Map<string, number>();
    const before = received().length;
    const cpuBefore = cpuSeconds(dispatcher?.child.pid);
    const started = Date.now();
    for (let i = 0; i < targets.length; i += ENQUEUE_BATCH) {
      const batch = targets.slice(i, i + ENQUEUE_BATCH);
      const now = Date.now();
      for (const d of batch) enqueuedAt.set(d.token, now);
      await deliveries.addBulk(
        batch.map((d) => ({
          name: JobName.Deliver,
          data: { event: makeMailEvent(d.userId, { detectedAt: now }), deviceId: d.id },
        })),
      );
    }
    await eventually(() => assert.equal(received().length - before, targets.length), {
      timeoutMs: PHASE_TIMEOUT_MS,
      intervalMs: 50,
    });
    const finished = Date.now();
    const cpu = cpuSeconds(dispatcher?.child.pid) - cpuBefore;
    const mine = received().filter((r) => r.token !== undefined && enqueuedAt.has(r.token));
    assert.equal(new Set(mine.map((r) => r.token)).size, targets.length, 'every device exactly once');
    const latencies = mine.map((r) => r.receivedAt - (enqueuedAt.get(r.token ?? '') ?? 0)).sort((a, b) => a - b);
    const rate = targets.length / ((finished - started) / 1000);
    process.stdout.write(
      `${name.padEnd(11)} ${String(targets.length).padStart(6)} notifications in ${String(finished - started).padStart(5)} ms = ${rate.toFixed(0).padStart(5)}/s` +
        `   enqueue→receipt p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms` +
        `   dispatcher CPU ${((cpu * 1000) / targets.length).toFixed(2)} ms/notification\n`,
    );
  }

  try {
    process.stdout.write(
      `registering ${perPlatform} iOS + ${perPlatform} Android devices (twice, for the mixed phase)…\n`,
    );
    const ios = (n: number) =>
      register(n, (i) => ({
        platform: 'ios',
        token: makeApnsToken(),
        environment: i % 2 ? 'sandbox' : 'production',
        privacy: 'full',
      }));
    const android = (n: number) => register(n, () => ({ platform: 'android', token: makeFcmToken(), privacy: 'full' }));
    const [iosOnly, androidOnly, iosMixed, androidMixed, warm] = [
      await ios(perPlatform),
      await android(perPlatform),
      await ios(perPlatform),
      await android(perPlatform),
      [...(await ios(2)), ...(await android(1))],
    ];

    dispatcher = startDispatcher({
      REDIS_URL: redis.url,
      LOG_LEVEL: 'warn',
      MAILPUSH_MASTER_KEY: masterKey,
      MAILPUSH_ADMIN_TOKEN: makeAdminToken(),
      MAILPUSH_OPS_PORT: '0',
      MAILPUSH_DISPATCH_CONCURRENCY: String(concurrency),
      MAILPUSH_PUSH_MAX_IN_FLIGHT: String(concurrency),
      APNS_KEY_FILE: key.keyFile,
      APNS_KEY_ID: key.keyId,
      APNS_TEAM_ID: key.teamId,
      APNS_TOPIC: TOPIC,
      APNS_ENDPOINT: apns.url,
      FCM_ENDPOINT: fcm.url,
      FCM_PROJECT_ID: PROJECT,
    });
    // Warm-up: the process is up and its connections (APNs per environment, FCM) are open.
    await phase('warm-up', warm);

    process.stdout.write(
      `\none dispatcher process (concurrency ${concurrency}) → local fakes; Redis, fakes and dispatcher share this machine's ${(await import('node:os')).cpus().length} cores\n`,
    );
    await phase('APNs', iosOnly);
    await phase('FCM', androidOnly);
    const mixed = iosMixed.flatMap((d, i) => [d, androidMixed[i]!]);
    await phase('APNs + FCM', mixed);
    process.stdout.write(`provider tokens (JWTs) seen by the APNs fake: ${apns.jwtsSeen().size}\n`);
  } finally {
    await dispatcher?.stop();
    await deliveries.close();
    await client.quit();
    await Promise.all([apns.close(), fcm.close(), redis.stop()]);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
