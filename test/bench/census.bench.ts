/**
 * Cost of one pass of the cluster census behind mailpush_accounts and mailpush_accounts_unowned
 * (libs/store/account-census.ts): N synthetic accounts in a real Redis (one in ten without a
 * lease, an eighth each of six statuses), three passes, wall time and Redis commands per pass.
 * Run: npm run bench:census [-- <accounts, default 100000>]
 */
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { AccountCensus, AccountOwnershipReader, RedisKeys, type AccountStatus } from '@mailpush/store';
import { startRedis } from '../harness';

const STATUSES: AccountStatus[] = [
  'idle',
  'idle',
  'idle',
  'polling',
  'backoff',
  'auth_error',
  'disabled',
  'connecting',
];

async function commandsProcessed(redis: Redis): Promise<number> {
  return Number(/total_commands_processed:(\d+)/.exec(await redis.info('stats'))?.[1]);
}

async function main(): Promise<void> {
  const count = Math.min(500_000, Math.max(100, Number(process.argv[2] ?? 100_000)));
  const server = await startRedis();
  const redis = new Redis(server.url);
  try {
    let expectedUnowned = 0;
    for (let start = 0; start < count; start += 5000) {
      const pipeline = redis.pipeline();
      for (let i = start; i < Math.min(count, start + 5000); i++) {
        const id = `acc_${i.toString(16).padStart(20, '0')}`;
        const status = STATUSES[i % STATUSES.length] ?? 'idle';
        pipeline.hset(RedisKeys.account(id), { id, status }).sadd(RedisKeys.allAccounts(), id);
        if (i % 10 !== 0) pipeline.set(RedisKeys.lease(id), 'bench#1');
        else if (status !== 'auth_error' && status !== 'disabled') expectedUnowned += 1;
      }
      await pipeline.exec();
    }
    const census = new AccountCensus(redis, new AccountOwnershipReader(redis));
    process.stdout.write(`census of ${count} accounts (one Redis, this machine)\n`);
    for (let pass = 1; pass <= 3; pass++) {
      const before = await commandsProcessed(redis);
      const started = process.hrtime.bigint();
      const result = await census.take();
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const commands = (await commandsProcessed(redis)) - before - 1;
      assert.equal(result.total, count);
      assert.equal(result.unowned, expectedUnowned);
      process.stdout.write(
        `  pass ${pass}: ${ms.toFixed(0)} ms, ${commands} Redis commands (${(commands / count).toFixed(2)} per account)\n`,
      );
    }
  } finally {
    await redis.quit();
    await server.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
