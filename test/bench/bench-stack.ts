import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { loadConfig } from '@mailpush/config';
import { AccountRepository, DeviceRepository, UserRepository } from '@mailpush/store';
import { startApnsFake, type ApnsFake } from '../fakes/apns-fake';
import { startFcmFake, type FcmFake } from '../fakes/fcm-fake';
import {
  eventually,
  freePort,
  startDovecot,
  startRedis,
  type DovecotHandle,
  type DovecotUser,
  type RedisHandle,
} from '../harness';
import { makeApnsKey, makeApnsToken } from '../support/factories';
import { APNS_TOPIC, FCM_PROJECT, roleEnv } from '../support/pipeline.fixture';
import { RoleProcess, type Role } from '../support/role-process';
import type { MemorySample, ProbeSample, RedisCommandCounts } from './process-stats';

/**
 * Product settings the bench changes, and why: loopback IMAP is private; the bench sends more
 * than the default 5 messages a minute to one device (10 per device in the push row), which would
 * otherwise be folded into burst summaries instead of being pushed one by one.
 */
export const BENCH_ROLE_ENV = {
  LOG_LEVEL: 'warn',
  // One bench user holds many devices (the push row: 20 each) or mailboxes.
  MAILPUSH_MAX_DEVICES_PER_USER: '1000',
  MAILPUSH_MAX_ACCOUNTS_PER_USER: '100000',
  MAILPUSH_ALLOW_PRIVATE_HOSTS: 'true',
  MAILPUSH_BURST_BUDGET: '240',
} as const;

/** Infrastructure shared by the rows: real Redis and Dovecot, the strict push fakes, role settings. */
export interface BenchStack {
  redis: RedisHandle;
  /** Present when some row needs IMAP. */
  dovecot?: DovecotHandle;
  logins: DovecotUser[];
  apns: ApnsFake;
  fcm: FcmFake;
  /** Environment of every role this bench starts (product defaults except {@link BENCH_ROLE_ENV}). */
  env: Record<string, string>;
  client: Redis;
  probeDir: string;
  /** Pause before a memory sample (see {@link SETTLE_MS}). */
  settleMs: number;
  stop(): Promise<void>;
}

export async function startStack(o: {
  mailboxes: number;
  maxConnections: number;
  settleMs?: number;
  env?: Record<string, string>;
}): Promise<BenchStack> {
  const key = makeApnsKey();
  const logins = Array.from({ length: o.mailboxes }, (_, i) => ({ user: `mbx${i}`, password: `bench-pw-${i}` }));
  const [redis, dovecot, apns, fcm] = await Promise.all([
    startRedis(),
    o.mailboxes > 0 ? startDovecot({ users: logins, maxConnections: o.maxConnections }) : undefined,
    startApnsFake({ teamId: key.teamId, keyId: key.keyId, publicKeyPem: key.publicKeyPem, topic: APNS_TOPIC }),
    startFcmFake({ projectId: FCM_PROJECT }),
  ]);
  const env = {
    ...roleEnv({ redisUrl: redis.url, port: await freePort(), apnsKey: key, apnsUrl: apns.url, fcmUrl: fcm.url }),
    ...BENCH_ROLE_ENV,
    ...o.env,
  };
  const client = new Redis(redis.url, { maxRetriesPerRequest: null });
  const probeDir = mkdtempSync(join(tmpdir(), 'mailpush-bench-probe-'));
  return {
    redis,
    ...(dovecot ? { dovecot } : {}),
    logins,
    apns,
    fcm,
    env,
    client,
    probeDir,
    settleMs: o.settleMs ?? SETTLE_MS,
    async stop() {
      await client.quit().catch(() => undefined);
      await Promise.all([apns.close(), fcm.close(), dovecot?.stop(), redis.stop()]);
      rmSync(probeDir, { recursive: true, force: true });
    },
  };
}

export interface SeededMailbox {
  accountId: string;
  userId: string;
  login: DovecotUser;
  /** The one iOS device of the mailbox's owner. */
  apnsToken: string;
  deviceId: string;
}

/**
 * Writes users, one iOS device each and their accounts straight into Redis through the product's
 * repositories, as the API would after checking each login (the API's login check is not what
 * these rows measure, and it would cost a login per mailbox before the run starts).
 */
export async function seedMailboxes(
  redisUrl: string,
  env: Record<string, string>,
  dovecot: DovecotHandle,
  logins: DovecotUser[],
): Promise<SeededMailbox[]> {
  const client = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const config = loadConfig({ ...env, REDIS_URL: redisUrl });
  const users = new UserRepository(client);
  const devices = new DeviceRepository(client, config);
  const accounts = new AccountRepository(client, config);
  const seeded: SeededMailbox[] = [];
  let next = 0;
  try {
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < logins.length) {
          const login = logins[next++]!;
          const { user } = await users.create();
          const apnsToken = makeApnsToken();
          const { device } = await devices.upsert(user.id, {
            platform: 'ios',
            token: apnsToken,
            environment: 'production',
            privacy: 'full',
          });
          // UIDVALIDITY 0 matches no real mailbox: the worker starts at the top without notifying history.
          const account = await accounts.create(
            user.id,
            {
              email: `${login.user}@example.test`,
              imap: { host: dovecot.host, port: dovecot.port, tls: true },
              username: login.user,
              password: login.password,
            },
            { uidValidity: 0, lastUid: 0 },
          );
          seeded.push({ accountId: account.id, userId: user.id, login, apnsToken, deviceId: device.id });
        }
      }),
    );
  } finally {
    await client.quit();
  }
  return seeded;
}

export async function redisUsedMemory(client: Redis): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await client.info('memory'))?.[1] ?? NaN);
}

/** How many accounts are in each status (the same figures as the admin overview). */
export async function accountStatusCounts(
  stack: BenchStack,
  redisUrl = stack.redis.url,
): Promise<Record<string, number>> {
  const client = redisUrl === stack.redis.url ? stack.client : new Redis(redisUrl, { maxRetriesPerRequest: null });
  try {
    const repo = new AccountRepository(client, loadConfig({ ...stack.env, REDIS_URL: redisUrl }));
    return await repo.statusCounts();
  } finally {
    if (client !== stack.client) await client.quit();
  }
}

/** A worker or dispatcher started by the bench: ops port for readiness and metrics, memory probe preloaded. */
export interface BenchRole {
  proc: RoleProcess;
  opsPort: number;
  /** Reads one of the process's Prometheus metrics (sum over the series matching `labels`). */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  /** Full GC, then the process's memory (through the bench's preload). */
  memory(): Promise<MemorySample>;
  /** Redis commands the process has sent so far (also runs a full GC). */
  redisCommands(): Promise<RedisCommandCounts>;
  /** The whole probe: Redis commands so far, and what was traced since the previous probe. */
  sample(): Promise<ProbeSample>;
}

const PRELOAD = resolve(__dirname, 'role-probe.preload.js');

export async function startRole(
  stack: BenchStack,
  role: Role,
  extra: Record<string, string> = {},
  nodeOptions: string[] = [],
): Promise<BenchRole> {
  const opsPort = await freePort();
  const proc = RoleProcess.start(role, {
    ...stack.env,
    MAILPUSH_OPS_PORT: String(opsPort),
    MAILPUSH_BENCH_PROBE_DIR: stack.probeDir,
    NODE_OPTIONS: [process.env.NODE_OPTIONS ?? '', '--expose-gc', `--require=${PRELOAD}`, ...nodeOptions]
      .join(' ')
      .trim(),
    ...extra,
  });
  const ops = `http://127.0.0.1:${opsPort}`;
  await eventually(
    async () => {
      assert.ok(proc.running, `${role} exited: ${proc.logText().slice(-2000)}`);
      assert.equal((await fetch(`${ops}/readyz`)).status, 200);
    },
    { timeoutMs: 30_000, intervalMs: 100, message: `${role} never became ready` },
  );
  let lastSeq = 0;
  const probe = async (snapshot: boolean): Promise<ProbeSample> => {
    const pid = proc.pid;
    assert.ok(pid !== undefined && proc.running, `${role} is not running`);
    const file = join(stack.probeDir, `${pid}.json`);
    if (snapshot) writeFileSync(join(stack.probeDir, `${pid}.snapshot`), '');
    process.kill(pid, 'SIGUSR2');
    const sample = await eventually(
      () => {
        assert.ok(existsSync(file), 'no probe sample yet');
        const s = JSON.parse(readFileSync(file, 'utf8')) as ProbeSample;
        assert.ok(s.seq > lastSeq, 'no new probe sample yet');
        return s;
      },
      { timeoutMs: 60_000, intervalMs: 50 },
    );
    lastSeq = sample.seq;
    return sample;
  };
  return {
    proc,
    opsPort,
    async metric(name, labels = {}) {
      const text = await (await fetch(`${ops}/metrics`)).text();
      let sum = 0;
      for (const line of text.split('\n')) {
        if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
        if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
          sum += Number(line.split(' ').pop());
      }
      return sum;
    },
    async memory() {
      const { seq: _seq, redis: _redis, ...memory } = await probe(true);
      return memory;
    },
    async redisCommands() {
      return (await probe(false)).redis;
    },
    sample() {
      return probe(false);
    },
  };
}

/** Timers, buffers and lazily built objects settle after the last connection comes up: measure after this. */
export const SETTLE_MS = 3_000;

export async function settle(ms = SETTLE_MS): Promise<void> {
  await delay(ms);
}

/** What Redis did between two points: commands received over the network, scripts run, its own CPU. */
export interface RedisWork {
  commands: number;
  /** EVALSHA/EVAL/FCALL calls (BullMQ's job moves and the product's scripts), counted in `commands` too. */
  scripts: number;
  cpuMs: number;
  /** The most called commands, scripts' inner calls included (INFO commandstats). */
  top: Record<string, number>;
}

export interface RedisSnapshot {
  commands: number;
  cpuMs: number;
  calls: Map<string, number>;
}

export async function redisSnapshot(client: Redis): Promise<RedisSnapshot> {
  const [stats, cpu, commandstats] = [
    await client.info('stats'),
    await client.info('cpu'),
    await client.info('commandstats'),
  ];
  const num = (text: string, field: string) => Number(new RegExp(`${field}:([\\d.]+)`).exec(text)?.[1] ?? NaN);
  const calls = new Map<string, number>();
  for (const m of commandstats.matchAll(/cmdstat_([^:]+):calls=(\d+)/g)) calls.set(m[1]!, Number(m[2]));
  return {
    commands: num(stats, 'total_commands_processed'),
    cpuMs: (num(cpu, 'used_cpu_user') + num(cpu, 'used_cpu_sys')) * 1000,
    calls,
  };
}

export function redisWork(before: RedisSnapshot, after: RedisSnapshot): RedisWork {
  const delta = [...after.calls].map(([k, v]) => [k, v - (before.calls.get(k) ?? 0)] as const).filter(([, v]) => v > 0);
  const scripts = delta.filter(([k]) => /^(evalsha|eval|fcall)/.test(k)).reduce((n, [, v]) => n + v, 0);
  return {
    // INFO itself is not part of the work measured.
    commands: after.commands - before.commands - 3,
    scripts,
    cpuMs: after.cpuMs - before.cpuMs,
    top: Object.fromEntries(delta.sort((a, b) => b[1] - a[1]).slice(0, 12)),
  };
}
