import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RedisKeys, SLOT_COUNT } from '@mailpush/store';
import { eventually, startRedis } from '../harness';
import { accountStatusCounts, seedMailboxes, startRole, type BenchRole, type BenchStack } from './bench-stack';
import type { RowResult } from './bench-report';
import { cpuMs } from './process-stats';
import { log } from './bench-progress';

/** The product's pacing defaults (MAILPUSH_CONNECT_RATE_PER_WORKER / _PER_HOST) and lease TTL. */
const DEFAULT_RATE_PER_WORKER = 50;
const DEFAULT_RATE_PER_HOST = 10;
const DEFAULT_LEASE_TTL_MS = 30_000;
const PROGRESS_EVERY_MS = 10_000;

/** Connects per second one worker makes to one host: all bench mailboxes are on one Dovecot. */
export function pacedRate(env: Record<string, string>): number {
  const perWorker = Number(env.MAILPUSH_CONNECT_RATE_PER_WORKER ?? DEFAULT_RATE_PER_WORKER);
  const perHost = Number(env.MAILPUSH_CONNECT_RATE_PER_HOST ?? DEFAULT_RATE_PER_HOST);
  return Math.min(perWorker, perHost);
}

export interface ColdStart {
  worker: BenchRole;
  mailboxes: number;
  /** Worker spawned → every account `idle` in Redis. */
  allWatchingMs: number;
  /** What the token buckets allow: N / rate. */
  pacedMs: number;
  /** Worker CPU over the ramp. */
  cpuMs: number;
}

/** Starts one worker over N seeded accounts and times it until every account is `idle`. */
export async function coldStart(stack: BenchStack, n: number, nodeOptions: string[] = []): Promise<ColdStart> {
  const rate = pacedRate(stack.env);
  const pacedMs = (n / rate) * 1000;
  log(`cold start: ${n} mailboxes at ${rate} connects/s (pacing alone: ${(pacedMs / 1000).toFixed(0)} s)`);
  const startedAt = Date.now();
  const worker = await startRole(stack, 'worker', {}, nodeOptions);
  let lastProgress = startedAt;
  // Pacing sets the pace until the CPU does: a loaded machine connects fewer than 100 a second.
  const timeoutMs = Math.max(pacedMs, n * 10) * 2 + 120_000;
  await eventually(
    async () => {
      const counts = await accountStatusCounts(stack);
      if (Date.now() - lastProgress >= PROGRESS_EVERY_MS) {
        lastProgress = Date.now();
        log(`cold start: ${JSON.stringify(counts)} after ${((Date.now() - startedAt) / 1000).toFixed(0)} s`);
      }
      assert.ok(worker.proc.running, 'worker exited');
      assert.equal(counts.idle ?? 0, n, `not all idle: ${JSON.stringify(counts)}`);
    },
    { timeoutMs, intervalMs: 250 },
  ).catch(async (err: unknown) => {
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n${await whyNotIdle(stack)}`, { cause: err });
  });
  const allWatchingMs = Date.now() - startedAt;
  const cpu = cpuMs(worker.proc.pid);
  log(
    `cold start: all ${n} idle after ${(allWatchingMs / 1000).toFixed(1)} s, worker CPU ${(cpu / 1000).toFixed(1)} s`,
  );
  return { worker, mailboxes: n, allWatchingMs, pacedMs, cpuMs: cpu };
}

export interface Failover {
  mailboxes: number;
  /** Accounts the killed worker held. */
  moved: number;
  /** SIGKILL → the survivor holds every account in IDLE. */
  recoveredMs: number;
  /** Lease TTL + moved / rate. */
  expectedMs: number;
  leaseTtlMs: number;
}

/**
 * Two workers share F mailboxes (their own Redis, the same Dovecot); one is SIGKILLed, and the
 * survivor's own metrics (`mailpush_worker_accounts{status="idle"}`) are read until it holds all F.
 */
export async function failover(stack: BenchStack, f: number): Promise<Failover> {
  assert.ok(stack.dovecot);
  const redis = await startRedis();
  const workers: BenchRole[] = [];
  try {
    const env = { REDIS_URL: redis.url };
    await seedMailboxes(redis.url, { ...stack.env, ...env }, stack.dovecot, stack.logins.slice(0, f));
    const leaseTtlMs = Number(stack.env.MAILPUSH_LEASE_TTL_MS ?? DEFAULT_LEASE_TTL_MS);
    log(`failover: two workers over ${f} mailboxes (lease TTL ${leaseTtlMs / 1000} s)`);
    workers.push(...(await Promise.all([startRole(stack, 'worker', env), startRole(stack, 'worker', env)])));
    const idle = (w: BenchRole) => w.metric('mailpush_worker_accounts', { status: 'idle' });
    const slots = (w: BenchRole) => w.metric('mailpush_worker_slots');
    // Accounts follow their slots (issue 8): wait until the two workers hold every slot between
    // them and every account is idle, then kill the one holding more accounts (with few mailboxes
    // all of them may hash to one worker's slots).
    const held = await eventually(
      async () => {
        const [w0, w1] = workers as [BenchRole, BenchRole];
        const [a, b] = [await idle(w0), await idle(w1)];
        const [sa, sb] = [await slots(w0), await slots(w1)];
        assert.ok(sa > 0 && sb > 0 && sa + sb === SLOT_COUNT, `slots ${sa} + ${sb}: the ranking has not settled yet`);
        assert.equal(a + b, f, `idle ${a} + ${b}`);
        return [a, b] as const;
      },
      { timeoutMs: Math.max(120_000, (f / pacedRate(stack.env)) * 3000), intervalMs: 250 },
    );
    const [victim, survivor] = (held[0] >= held[1] ? workers : [...workers].reverse()) as [BenchRole, BenchRole];
    const split = Math.max(held[0], held[1]);
    const killedAt = Date.now();
    await victim.proc.kill();
    log(`failover: killed a worker holding ${split} of ${f} mailboxes`);
    const expectedMs = leaseTtlMs + (split / pacedRate(stack.env)) * 1000;
    await eventually(async () => assert.equal(await idle(survivor), f), {
      timeoutMs: expectedMs * 3 + 60_000,
      intervalMs: 250,
    });
    const recoveredMs = Date.now() - killedAt;
    log(`failover: all ${f} watched again ${(recoveredMs / 1000).toFixed(1)} s after the kill`);
    return { mailboxes: f, moved: split, recoveredMs, expectedMs, leaseTtlMs };
  } finally {
    await Promise.all(workers.map((w) => w.proc.stop()));
    await redis.stop();
  }
}

export function coldStartRow(cs: ColdStart, fo: Failover | undefined, rate: number): RowResult {
  return {
    row: 'coldstart',
    title: `Cold start of ${cs.mailboxes} mailboxes at ${rate} connects/s, and failover`,
    figures: [
      {
        measure: `cold start → all ${cs.mailboxes} watching`,
        unit: 's',
        mailpush: cs.allWatchingMs / 1000,
        floor: cs.pacedMs / 1000,
        floorName: 'N / configured connect rate',
        ratio: cs.allWatchingMs / cs.pacedMs,
      },
      ...(fo
        ? [
            {
              measure: `failover: ${fo.moved} of ${fo.mailboxes} watched again`,
              unit: 's',
              mailpush: fo.recoveredMs / 1000,
              floor: fo.expectedMs / 1000,
              floorName: 'lease TTL + moved / connect rate',
              ratio: fo.recoveredMs / fo.expectedMs,
            },
          ]
        : []),
    ],
    details: {
      coldStart: {
        mailboxes: cs.mailboxes,
        allWatchingMs: cs.allWatchingMs,
        pacedMs: cs.pacedMs,
        workerCpuMs: cs.cpuMs,
        workerCpuMsPerMailbox: cs.cpuMs / cs.mailboxes,
        /** Share of one core the worker used during the ramp: far below 1 means pacing, not CPU, set the pace. */
        workerCoreShare: cs.cpuMs / cs.allWatchingMs,
      },
      ...(fo ? { failover: fo } : {}),
    },
  };
}

/** The errors of the accounts that are not idle, and Dovecot's own complaints, counted. */
async function whyNotIdle(stack: BenchStack): Promise<string> {
  const ids = await stack.client.smembers(RedisKeys.allAccounts());
  const errors = new Map<string, number>();
  for (const id of ids) {
    const [status, lastError] = await stack.client.hmget(RedisKeys.account(id), 'status', 'lastError');
    if (status !== 'idle')
      errors.set(`${status}: ${lastError ?? ''}`, (errors.get(`${status}: ${lastError ?? ''}`) ?? 0) + 1);
  }
  const log = stack.dovecot ? join(stack.dovecot.dir, 'dovecot.log') : undefined;
  const complaints = new Map<string, number>();
  if (log && existsSync(log)) {
    for (const line of readFileSync(log, 'utf8').split('\n')) {
      const m = /(Error|Fatal|Warning|Panic): (.{0,120})/.exec(line);
      if (m) complaints.set(m[0].replace(/\d+/g, 'N'), (complaints.get(m[0].replace(/\d+/g, 'N')) ?? 0) + 1);
    }
  }
  const top = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 8)
      .map(([k, v]) => `  ${v} × ${k}`)
      .join('\n');
  return `accounts not idle:\n${top(errors)}\ndovecot log:\n${top(complaints) || '  (nothing)'}`;
}
