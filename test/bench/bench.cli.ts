/**
 * `npm run bench`: mailpush beside its floors, every figure measured in the same run on this
 * machine, loopback only. Starts real Redis and Dovecot (test/harness), the strict push fakes and
 * real worker/dispatcher processes; prints a table and writes a JSON report. See docs/benchmarks.md.
 *
 *   npm run bench                                   default sizes (≤ 10 min on 2 cores)
 *   npm run bench -- --mailboxes 10000 --only density
 *   npm run bench -- --mailboxes 200 --pushes 1000  a quick run while developing
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { say } from './bench-progress';
import { redisUsedMemory, seedMailboxes, startStack } from './bench-stack';
import {
  formatTable,
  readMachine,
  ROW_NAMES,
  writeReport,
  type BenchReport,
  type RowName,
  type RowResult,
} from './bench-report';
import { coldStart, coldStartRow, failover, pacedRate, type ColdStart, type Failover } from './cold-start.row';
import { densityRow, emptyWorkerMemory, measureFloors, workerDensity, type FloorDensity } from './density.row';
import { latencyRow } from './latency.row';
import { pushRow } from './push.row';
import type { MemorySample } from './process-stats';

const ROOT = resolve(__dirname, '../../..');

export interface BenchOptions {
  mailboxes: number;
  only: RowName[];
  rate: number;
  seconds: number;
  observed: number;
  pushUsers: number;
  pushDevices: number;
  pushMessages: number;
  /** The push row also measures APNs with APNS_CLIENT=http2 (off with --no-apns-http2). */
  apnsHttp2: boolean;
  concurrency: number;
  failoverMailboxes: number;
  connectRate?: number;
  leaseTtlMs?: number;
  profileDir?: string;
  settleMs: number;
  out: string;
}

const USAGE = `usage: npm run bench -- [options]
  --mailboxes N          mailboxes watched by the worker (default 2000)
  --only ROWS            comma-separated rows: ${ROW_NAMES.join(',')} (default all)
  --rate R               latency row: messages per second (default 20)
  --seconds S            latency row: how long messages are sent (default 30)
  --observed M           latency row: mailboxes with an observer, among which messages go (default: all N)
  --pushes K             push row: notifications per platform (default 10000 = 50 users × 20 devices × 10)
  --push-users U --push-devices D --push-messages M   the same, by its factors
  --no-apns-http2        push row: skip the second APNs pass with APNS_CLIENT=http2 (default: measured)
  --concurrency C        dispatcher deliveries in flight, and the floor's (default 50, the product default)
  --failover-mailboxes F mailboxes shared by the two workers of the failover (default 400)
  --connect-rate R       connects/s per worker and host, and fleet-wide per host (default: the product's, 10 and 20)
  --lease-ttl-ms T       lease TTL (default: the product's, 30000)
  --settle-ms MS         pause before each memory sample (default 3000)
  --profile              CPU profiles (--cpu-prof) of worker and dispatcher, heap snapshots of the worker
  --out FILE             JSON report (default .bench/report-<date>.json)`;

export function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    allowNegative: true,
    options: {
      mailboxes: { type: 'string' },
      only: { type: 'string' },
      rate: { type: 'string' },
      seconds: { type: 'string' },
      observed: { type: 'string' },
      pushes: { type: 'string' },
      'push-users': { type: 'string' },
      'push-devices': { type: 'string' },
      'push-messages': { type: 'string' },
      'apns-http2': { type: 'boolean' },
      concurrency: { type: 'string' },
      'failover-mailboxes': { type: 'string' },
      'connect-rate': { type: 'string' },
      'lease-ttl-ms': { type: 'string' },
      'settle-ms': { type: 'string' },
      profile: { type: 'boolean' },
      out: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const int = (name: string, v: string | undefined, dflt: number, min = 1): number => {
    const n = v === undefined ? dflt : Number(v);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number ≥ ${min}\n${USAGE}`);
    return n;
  };
  const only = (values.only ?? ROW_NAMES.join(',')).split(',').map((s) => s.trim());
  for (const r of only)
    if (!(ROW_NAMES as readonly string[]).includes(r)) throw new Error(`--only: unknown row ${r}\n${USAGE}`);
  const pushUsers = int('push-users', values['push-users'], 50);
  const pushDevices = int('push-devices', values['push-devices'], 20);
  const pushMessages =
    values.pushes !== undefined
      ? Math.max(1, Math.round(int('pushes', values.pushes, 10_000) / (pushUsers * pushDevices)))
      : int('push-messages', values['push-messages'], 10);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return {
    mailboxes: int('mailboxes', values.mailboxes, 2000),
    only: only as RowName[],
    rate: int('rate', values.rate, 20),
    seconds: int('seconds', values.seconds, 30),
    observed: values.observed === undefined ? Infinity : int('observed', values.observed, 1),
    pushUsers,
    pushDevices,
    pushMessages,
    apnsHttp2: values['apns-http2'] ?? true,
    concurrency: int('concurrency', values.concurrency, 50),
    failoverMailboxes: int('failover-mailboxes', values['failover-mailboxes'], 400, 2),
    ...(values['connect-rate'] !== undefined ? { connectRate: int('connect-rate', values['connect-rate'], 10) } : {}),
    ...(values['lease-ttl-ms'] !== undefined
      ? { leaseTtlMs: int('lease-ttl-ms', values['lease-ttl-ms'], 30_000) }
      : {}),
    ...(values.profile ? { profileDir: resolve(ROOT, `.bench/profiles-${stamp}`) } : {}),
    settleMs: int('settle-ms', values['settle-ms'], 3000, 0),
    out: resolve(ROOT, values.out ?? `.bench/report-${stamp}.json`),
  };
}

export async function runBench(o: BenchOptions): Promise<BenchReport> {
  const startedAt = new Date();
  const machine = readMachine();
  const wants = (r: RowName) => o.only.includes(r);
  const needWorker = wants('density') || wants('latency') || wants('coldstart');
  const mailboxes = needWorker ? Math.max(o.mailboxes, wants('coldstart') ? o.failoverMailboxes : 0) : 0;
  const env: Record<string, string> = {
    ...(o.connectRate !== undefined
      ? {
          MAILPUSH_CONNECT_RATE_PER_HOST: String(o.connectRate),
          MAILPUSH_CONNECT_RATE_PER_WORKER: String(Math.max(o.connectRate, 50)),
          // The fleet-wide bucket per host (default 20/s) would otherwise cap a faster rate.
          MAILPUSH_CONNECT_RATE_PER_HOST_FLEET: String(Math.max(o.connectRate, 20)),
        }
      : {}),
    ...(o.leaseTtlMs !== undefined ? { MAILPUSH_LEASE_TTL_MS: String(o.leaseTtlMs) } : {}),
    ...(o.profileDir ? { MAILPUSH_BENCH_SNAPSHOT_DIR: o.profileDir } : {}),
  };
  if (o.profileDir) mkdirSync(o.profileDir, { recursive: true });
  const profile = (name: string) =>
    o.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${o.profileDir}`, `--cpu-prof-name=${name}-\${pid}.cpuprofile`] : [];

  say(
    `mailpush bench — ${machine.cpus} cores (${machine.cpuModel}), ${machine.memoryGiB} GiB, Node ${machine.node}, ` +
      `${machine.dovecot.split(' ')[0] ? `Dovecot ${machine.dovecot.split(' ')[0]}` : ''}, Redis ${machine.redis}; load ${machine.loadAverageAtStart.join(' ')}`,
  );
  say(`starting Redis${mailboxes > 0 ? `, Dovecot (${mailboxes} users)` : ''} and the push fakes…`);
  const stack = await startStack({
    mailboxes,
    maxConnections: Math.max(o.mailboxes, o.failoverMailboxes) + Math.min(o.observed, o.mailboxes),
    settleMs: o.settleMs,
    env,
  });
  const rows: RowResult[] = [];
  const errors: BenchReport['errors'] = [];
  const attempt = async (row: RowName, fn: () => Promise<void>) => {
    const t0 = Date.now();
    say(`\n[${row}]`);
    try {
      await fn();
    } catch (err) {
      const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
      errors.push({ row, error: text });
      say(`  FAILED: ${text}`);
    }
    say(`  (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  };
  try {
    let floors: FloorDensity[] | undefined;
    let empty: MemorySample | undefined;
    let cs: ColdStart | undefined;
    let fo: Failover | undefined;
    if (needWorker && stack.dovecot) {
      const dovecot = stack.dovecot;
      const logins = stack.logins.slice(0, o.mailboxes);
      if (wants('density')) {
        await attempt('density', async () => {
          say('  floors first: the same N connections held by bare imapflow, then by raw TLS sockets');
          floors = await measureFloors(
            dovecot,
            logins,
            o.settleMs,
            o.profileDir ? { MAILPUSH_BENCH_SNAPSHOT_DIR: o.profileDir } : {},
          );
          empty = await emptyWorkerMemory(stack);
        });
      }
      say(`\nseeding ${logins.length} users, iOS devices and accounts into Redis…`);
      const redisBefore = await redisUsedMemory(stack.client);
      const seeded = await seedMailboxes(stack.redis.url, stack.env, dovecot, logins);
      const redisPerMailbox = ((await redisUsedMemory(stack.client)) - redisBefore) / logins.length;
      await attempt('coldstart', async () => {
        cs = await coldStart(stack, logins.length, profile('worker'));
      });
      const worker = cs?.worker;
      try {
        if (worker && wants('density') && floors && empty) {
          const f = floors;
          const e = empty;
          await attempt('density', async () => {
            const loaded = await workerDensity(worker, o.settleMs);
            rows.push(densityRow(logins.length, f, e, loaded, redisPerMailbox));
          });
        }
        if (worker && wants('latency')) {
          await attempt('latency', async () => {
            rows.push(
              await latencyRow(stack, seeded, {
                rate: o.rate,
                seconds: o.seconds,
                observed: o.observed,
                worker,
                nodeOptions: profile('latency-dispatcher'),
              }),
            );
          });
        }
      } finally {
        await worker?.proc.stop();
      }
    }
    if (wants('coldstart')) {
      await attempt('coldstart', async () => {
        fo = await failover(stack, o.failoverMailboxes);
      });
      if (cs) rows.push(coldStartRow(cs, fo, pacedRate(stack.env)));
    }
    if (wants('push')) {
      await attempt('push', async () => {
        rows.push(
          await pushRow(stack, {
            users: o.pushUsers,
            devicesPerUser: o.pushDevices,
            messagesPerUser: o.pushMessages,
            concurrency: o.concurrency,
            apnsHttp2: o.apnsHttp2,
            nodeOptions: profile('dispatcher'),
          }),
        );
      });
    }
  } finally {
    await stack.stop();
  }
  const order = (r: RowResult) => ROW_NAMES.indexOf(r.row);
  rows.sort((a, b) => order(a) - order(b));
  return {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    options: o,
    machine,
    rows,
    errors,
  };
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const report = await runBench(o);
  say('');
  for (const r of report.rows) say(`${r.row}: ${r.title}`);
  say('');
  say(formatTable(report.rows));
  writeReport(o.out, report);
  say(`\nreport: ${o.out}${o.profileDir ? `\nprofiles: ${o.profileDir}` : ''}`);
  const seconds = (Date.parse(report.finishedAt) - Date.parse(report.startedAt)) / 1000;
  say(`took ${seconds.toFixed(0)} s`);
  if (report.errors.length > 0) {
    say(`${report.errors.length} row(s) failed: ${report.errors.map((e) => e.row).join(', ')}`);
    process.exit(1);
  }
  // Child processes and sockets are gone; exit even if a library left a timer behind.
  process.exit(0);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
