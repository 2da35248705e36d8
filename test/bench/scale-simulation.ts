import { fork, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { Redis } from 'ioredis';
import { SLOT_COUNT, RedisKeys, slotOf } from '@mailpush/store';
import { startRedis } from '../harness';
import { seedAccounts } from '../support/slot-fleet';

/** What the driver asks a worker-host process. */
export type HostAsk =
  | { op: 'start'; ids: string[] }
  | { op: 'stop' | 'crash'; id: string }
  | { op: 'snapshot' | 'cpu-mark' | 'cpu-read' | 'exit' };

export type HostRequest = HostAsk & { seq: number };

export type HostReply = {
  seq: number;
  ok: boolean;
  error?: string;
  /** snapshot: member → slots whose accounts it watches right now. */
  watched?: Record<string, number[]>;
  accounts?: number;
  cpuMs?: number;
  wallMs?: number;
  members?: number;
};

export interface SimulationOptions {
  accounts: number;
  workers: number;
  /** Processes the simulated workers are spread over. */
  processes: number;
  leaseTtlMs: number;
  reconcileMs: number;
  /** Length of the steady-state measurement. */
  steadyMs: number;
  /** Give up on any one phase after this long. */
  phaseTimeoutMs: number;
  progress?: (line: string) => void;
}

export interface SimulationReport {
  accounts: number;
  workers: number;
  leaseTtlMs: number;
  seedMs: number;
  initialTakeoverMs: number;
  steady: {
    seconds: number;
    commandsPerSecond: number;
    /** The busiest commands, calls per second. */
    topCommands: [string, number][];
    /** CPU of one simulated worker, in % of one core (process CPU / workers hosted). */
    cpuPercentPerWorker: number;
  };
  join: { slotsMoved: number; accountsMoved: number; fractionMoved: number; bound: number; settleMs: number };
  leave: { slotsMoved: number; accountsMoved: number; fractionMoved: number; bound: number; settleMs: number };
  kill: { accountsWatchedAgainMs: number; bound: number };
  /** Snapshots taken, and the most accounts seen watched by two workers at once in any of them. */
  samples: number;
  heldTwiceMax: number;
  redisUsedMemoryMb: number;
}

class WorkerHost {
  private seq = 0;
  private readonly pending = new Map<number, (r: HostReply) => void>();

  constructor(private readonly child: ChildProcess) {
    child.on('message', (r: HostReply) => {
      this.pending.get(r.seq)?.(r);
      this.pending.delete(r.seq);
    });
  }

  ask(req: HostAsk): Promise<HostReply> {
    const seq = ++this.seq;
    return new Promise((resolveReply, reject) => {
      this.pending.set(seq, (r) => (r.ok ? resolveReply(r) : reject(new Error(r.error))));
      const request: HostRequest = { ...req, seq };
      this.child.send(request);
    });
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function commandCalls(redis: Redis): Promise<Map<string, number>> {
  const calls = new Map<string, number>();
  for (const line of (await redis.info('commandstats')).split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line);
    if (m?.[1] && m[2]) calls.set(m[1], Number(m[2]));
  }
  return calls;
}

async function slotHolders(redis: Redis): Promise<(string | null)[]> {
  const pipeline = redis.pipeline();
  for (let slot = 0; slot < SLOT_COUNT; slot++) pipeline.get(RedisKeys.slotLease(slot));
  return ((await pipeline.exec()) ?? []).map(([, v]) => (typeof v === 'string' ? (v.split('#')[0] ?? null) : null));
}

/**
 * The ownership code at scale without IMAP: `workers` simulated workers (real SlotOwnership, a
 * stand-in that records "watching") spread over child processes, on a real redis-server, over
 * `accounts` accounts. Measures steady-state Redis load and CPU, moves on a join and a leave, the
 * time until a crashed worker's accounts are watched again, and whether any account was ever
 * watched twice.
 */
export async function runScaleSimulation(o: SimulationOptions): Promise<SimulationReport> {
  const say = o.progress ?? (() => undefined);
  const redis = await startRedis();
  const raw = new Redis(redis.url);
  const hosts: WorkerHost[] = [];
  const where = new Map<string, WorkerHost>();
  let samples = 0;
  let heldTwiceMax = 0;
  try {
    say(`seeding ${o.accounts.toLocaleString('en')} accounts into ${SLOT_COUNT} slots…`);
    const seedStart = Date.now();
    const ids = await seedAccounts(raw, o.accounts);
    const seedMs = Date.now() - seedStart;
    const perSlot = new Array<number>(SLOT_COUNT).fill(0);
    for (const id of ids) perSlot[slotOf(id)]! += 1;
    ids.length = 0;

    for (let i = 0; i < o.processes; i++) {
      const child = fork(
        resolve(__dirname, 'scale-worker-host.js'),
        [redis.url, String(o.leaseTtlMs), String(o.reconcileMs)],
        {
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        },
      );
      hosts.push(new WorkerHost(child));
    }
    const names = Array.from({ length: o.workers }, (_, i) => `sim-${String(i).padStart(3, '0')}`);
    names.forEach((id, i) => where.set(id, hosts[i % hosts.length]!));

    /** Accounts watched in total, and the check that no slot's accounts are watched by two workers. */
    const snapshot = async (): Promise<number> => {
      const replies = await Promise.all(hosts.map((h) => h.ask({ op: 'snapshot' })));
      const bySlot = new Map<number, number>();
      let accounts = 0;
      for (const r of replies) {
        accounts += r.accounts ?? 0;
        for (const slots of Object.values(r.watched ?? {}))
          for (const s of slots) bySlot.set(s, (bySlot.get(s) ?? 0) + 1);
      }
      let twice = 0;
      for (const [slot, n] of bySlot) if (n > 1) twice += perSlot[slot] ?? 0;
      samples += 1;
      heldTwiceMax = Math.max(heldTwiceMax, twice);
      return accounts;
    };
    const waitAllWatched = async (label: string): Promise<number> => {
      const start = Date.now();
      for (;;) {
        const watched = await snapshot();
        if (watched === o.accounts) return Date.now() - start;
        if (Date.now() - start > o.phaseTimeoutMs)
          throw new Error(`${label}: only ${watched} of ${o.accounts} watched`);
        say(`  ${label}: ${watched.toLocaleString('en')} of ${o.accounts.toLocaleString('en')} watched`);
        await sleep(1_000);
      }
    };
    const settleHolders = async (expectedWorkers: number): Promise<number> => {
      const start = Date.now();
      for (;;) {
        const holders = await slotHolders(raw);
        const distinct = new Set(holders.filter((h) => h !== null));
        if (holders.every((h) => h !== null) && distinct.size === expectedWorkers) {
          await waitAllWatched('settling');
          return Date.now() - start;
        }
        if (Date.now() - start > o.phaseTimeoutMs) throw new Error('slots never settled');
        await sleep(500);
      }
    };
    const moves = (before: (string | null)[], after: (string | null)[], bound: number) => {
      const moved = before.map((h, s) => (h !== after[s] ? s : -1)).filter((s) => s >= 0);
      const accountsMoved = moved.reduce((n, s) => n + (perSlot[s] ?? 0), 0);
      return { slotsMoved: moved.length, accountsMoved, fractionMoved: moved.length / SLOT_COUNT, bound };
    };

    say(`starting ${o.workers} simulated workers in ${o.processes} processes…`);
    const takeoverStart = Date.now();
    await Promise.all(hosts.map((h) => h.ask({ op: 'start', ids: names.filter((n) => where.get(n) === h) })));
    await waitAllWatched('initial takeover');
    const initialTakeoverMs = Date.now() - takeoverStart;
    say(`all accounts watched after ${initialTakeoverMs} ms`);

    say(`steady state: measuring for ${Math.round(o.steadyMs / 1000)} s…`);
    await sleep(Math.min(5_000, o.leaseTtlMs));
    const before = await commandCalls(raw);
    await Promise.all(hosts.map((h) => h.ask({ op: 'cpu-mark' })));
    const steadyStart = Date.now();
    await sleep(o.steadyMs);
    const cpu = await Promise.all(hosts.map((h) => h.ask({ op: 'cpu-read' })));
    const afterCalls = await commandCalls(raw);
    const seconds = (Date.now() - steadyStart) / 1000;
    const deltas = [...afterCalls].map(([c, n]) => [c, (n - (before.get(c) ?? 0)) / seconds] as [string, number]);
    // The two INFO calls of this measurement are not the system's.
    const total = deltas.reduce((a, [c, n]) => a + (c === 'info' ? 0 : n), 0);
    const cpuMs = cpu.reduce((a, r) => a + (r.cpuMs ?? 0), 0);
    const wallMs = Math.max(...cpu.map((r) => r.wallMs ?? 1));
    const steady = {
      seconds,
      commandsPerSecond: Math.round(total),
      topCommands: deltas
        .filter(([c]) => c !== 'info')
        .sort((a, b) => b[1] - a[1])
        .slice(0, 6)
        .map(([c, n]) => [c, Math.round(n * 10) / 10] as [string, number]),
      cpuPercentPerWorker: Math.round((cpuMs / wallMs / o.workers) * 10_000) / 100,
    };
    say(`  ${steady.commandsPerSecond} Redis commands/s; ${steady.cpuPercentPerWorker}% of a core per worker`);

    const joinId = `sim-${String(o.workers).padStart(3, '0')}`;
    say(`join: ${joinId}…`);
    const beforeJoin = await slotHolders(raw);
    where.set(joinId, hosts[0]!);
    await hosts[0]!.ask({ op: 'start', ids: [joinId] });
    const joinSettle = await settleHolders(o.workers + 1);
    const join = { ...moves(beforeJoin, await slotHolders(raw), 1.2 / (o.workers + 1)), settleMs: joinSettle };
    say(`  ${join.slotsMoved} slots (${join.accountsMoved} accounts) moved`);

    say(`leave: ${joinId} stops gracefully…`);
    const beforeLeave = await slotHolders(raw);
    await where.get(joinId)!.ask({ op: 'stop', id: joinId });
    const leaveSettle = await settleHolders(o.workers);
    const leave = { ...moves(beforeLeave, await slotHolders(raw), 1.2 / (o.workers + 1)), settleMs: leaveSettle };
    say(`  ${leave.slotsMoved} slots (${leave.accountsMoved} accounts) moved`);

    const victim = names[names.length - 1]!;
    say(`kill: ${victim} crashes (no goodbye)…`);
    const killedAt = Date.now();
    await where.get(victim)!.ask({ op: 'crash', id: victim });
    await waitAllWatched('after the crash');
    const kill = { accountsWatchedAgainMs: Date.now() - killedAt, bound: o.leaseTtlMs + 5_000 };
    say(`  all accounts watched again after ${kill.accountsWatchedAgainMs} ms`);

    const memory = Number(/used_memory:(\d+)/.exec(await raw.info('memory'))?.[1] ?? 0);
    return {
      accounts: o.accounts,
      workers: o.workers,
      leaseTtlMs: o.leaseTtlMs,
      seedMs,
      initialTakeoverMs,
      steady,
      join,
      leave,
      kill,
      samples,
      heldTwiceMax,
      redisUsedMemoryMb: Math.round(memory / 1024 / 1024),
    };
  } finally {
    await Promise.all(hosts.map((h) => h.ask({ op: 'exit' }).catch(() => undefined)));
    await sleep(200);
    for (const h of hosts) h.kill();
    raw.disconnect();
    await redis.stop();
  }
}
