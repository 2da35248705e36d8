/**
 * Ownership at scale, without IMAP: the real slot ownership code for many simulated workers on a
 * real Redis, each account "watched" by a stand-in. Prints steady-state Redis commands/s and CPU
 * per worker, slots and accounts moved on a join and a leave, the time until a crashed worker's
 * accounts are watched again, and whether any account was ever watched twice.
 *
 * Run: npm run bench:scale [-- --accounts 100000 --workers 50 --processes 5 --ttl 30000 --steady 60]
 */
import { runScaleSimulation } from './scale-simulation';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
  return value;
}

async function main(): Promise<void> {
  const accounts = flag('accounts', 1_000_000);
  const workers = flag('workers', 50);
  const options = {
    accounts,
    workers,
    processes: flag('processes', Math.min(5, workers)),
    leaseTtlMs: flag('ttl', 30_000),
    reconcileMs: flag('reconcile', 60_000),
    steadyMs: flag('steady', 60) * 1000,
    phaseTimeoutMs: flag('phase-timeout', 300) * 1000,
    progress: (line: string) => process.stdout.write(`${line}\n`),
  };
  const started = Date.now();
  const r = await runScaleSimulation(options);
  const check = (ok: boolean) => (ok ? 'ok  ' : 'MISS');
  const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
  const lines = [
    '',
    `bench:scale — ${r.accounts.toLocaleString('en')} accounts, ${r.workers} workers, lease TTL ${r.leaseTtlMs} ms`,
    `  seeded in ${r.seedMs} ms; initial takeover (all watched) ${r.initialTakeoverMs} ms; Redis ${r.redisUsedMemoryMb} MB`,
    `  ${check(r.steady.commandsPerSecond < 2000)} steady state: ${r.steady.commandsPerSecond} Redis commands/s over ${r.steady.seconds.toFixed(0)} s (target < 2,000)`,
    `       busiest: ${r.steady.topCommands.map(([c, n]) => `${c} ${n}/s`).join(', ')}`,
    `       CPU per simulated worker: ${r.steady.cpuPercentPerWorker}% of one core`,
    `  ${check(r.join.fractionMoved <= r.join.bound)} join: ${r.join.slotsMoved} slots (${pct(r.join.fractionMoved)}), ${r.join.accountsMoved.toLocaleString('en')} accounts moved; bound 1.2/N = ${pct(r.join.bound)}; settled in ${r.join.settleMs} ms`,
    `  ${check(r.leave.fractionMoved <= r.leave.bound)} leave: ${r.leave.slotsMoved} slots (${pct(r.leave.fractionMoved)}), ${r.leave.accountsMoved.toLocaleString('en')} accounts moved; settled in ${r.leave.settleMs} ms`,
    `  ${check(r.kill.accountsWatchedAgainMs <= r.kill.bound)} kill: all accounts watched again ${r.kill.accountsWatchedAgainMs} ms after the crash (target ≤ TTL + 5 s = ${r.kill.bound} ms)`,
    `  ${check(r.heldTwiceMax === 0)} held twice: ${r.heldTwiceMax} accounts at worst over ${r.samples} samples`,
    `  total run ${Math.round((Date.now() - started) / 1000)} s`,
    '',
    JSON.stringify(r),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:scale failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
