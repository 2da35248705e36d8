/**
 * Density and ramp: N real IMAP accounts (TLS, IDLE) on one worker against real Dovecot.
 * Prints the time from worker start until every account is idle (paced by the per-host token
 * bucket: all accounts share one host here), the worker's memory per account, and Redis memory
 * per account. Run: npm run bench:accounts [-- <accounts> <connects per second per host>]
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { eventually } from '../harness';
import { createUser, startPipeline } from '../support/pipeline.fixture';
import { RoleProcess } from '../support/role-process';

function rssKb(pid: number | undefined): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(pid ? readFileSync(`/proc/${pid}/status`, 'utf8') : '');
  return m ? Number(m[1]) : NaN;
}

async function usedMemory(redis: Redis): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1] ?? NaN);
}

async function main(): Promise<void> {
  const count = Math.min(900, Math.max(1, Number(process.argv[2] ?? 300)));
  const perHost = Math.max(1, Number(process.argv[3] ?? 10));
  const logins = Array.from({ length: count }, (_, i) => ({ user: `dense${i}`, password: `dense-pw-${i}` }));
  process.stdout.write(`starting Redis, Dovecot (${count} users), api and dispatcher…\n`);
  const p = await startPipeline({
    users: logins,
    roles: ['api', 'dispatcher'],
    // One user holds every mailbox here: lift the per-user quota (issue 9).
    env: {
      LOG_LEVEL: 'warn',
      MAILPUSH_CONNECT_RATE_PER_HOST: String(perHost),
      MAILPUSH_MAX_ACCOUNTS_PER_USER: String(Math.max(20, count)),
    },
  });
  const redis = new Redis(p.redis.url);
  let worker: RoleProcess | undefined;
  try {
    // Baseline: a worker with no accounts, to subtract the process's own footprint.
    const idleWorker = RoleProcess.start('worker', { ...p.env, LOG_LEVEL: 'warn' });
    await eventually(async () => {
      const live = (await p.admin.get<{ workers: { live: number } }>('/v1/admin/overview')).body.workers.live;
      assert.equal(live, 1);
    });
    const baselineKb = rssKb(idleWorker.pid);
    await idleWorker.stop();

    const user = await createUser(p.admin);
    const before = await usedMemory(redis);
    process.stdout.write(`linking ${count} accounts through the API (each login verified)…\n`);
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < logins.length) {
          const login = logins[next++]!;
          const res = await user.post('/v1/accounts', {
            email: `${login.user}@example.test`,
            imap: { host: p.dovecot.host, port: p.dovecot.port, tls: true },
            auth: { type: 'password', username: login.user, password: login.password },
          });
          assert.equal(res.status, 201, JSON.stringify(res.body));
        }
      }),
    );
    const redisPerAccount = ((await usedMemory(redis)) - before) / count;

    const idleCount = async () =>
      (await p.admin.get<{ accounts: { byStatus: Record<string, number> } }>('/v1/admin/overview')).body.accounts
        .byStatus.idle ?? 0;
    const startedAt = Date.now();
    worker = RoleProcess.start('worker', {
      ...p.env,
      LOG_LEVEL: 'warn',
      MAILPUSH_CONNECT_RATE_PER_HOST: String(perHost),
    });
    let lastReport = startedAt;
    await eventually(
      async () => {
        const idle = await idleCount();
        if (Date.now() - lastReport >= 5000) {
          lastReport = Date.now();
          process.stdout.write(`  ${idle}/${count} idle after ${((Date.now() - startedAt) / 1000).toFixed(0)} s\n`);
        }
        assert.equal(idle, count);
      },
      { timeoutMs: Math.max(60_000, (count / perHost) * 3000), intervalMs: 250 },
    );
    const rampS = (Date.now() - startedAt) / 1000;
    const rss = rssKb(worker.pid);
    process.stdout.write(
      [
        '',
        `${count} TLS IMAP accounts (IDLE) on one worker, connects paced at ${perHost}/s per host`,
        `  worker start → all idle   ${rampS.toFixed(1)} s  (${(count / rampS).toFixed(1)} accounts/s)`,
        `  worker RSS                ${(rss / 1024).toFixed(1)} MB, ${(baselineKb / 1024).toFixed(1)} MB with no accounts → ${((rss - baselineKb) / count).toFixed(1)} KB per account`,
        `  Redis per account         ${(redisPerAccount / 1024).toFixed(2)} KB  (account hash, cursor, lease, indexes)`,
        '',
      ].join('\n'),
    );
  } finally {
    await worker?.stop();
    await redis.quit();
    await p.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
