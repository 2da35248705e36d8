import { readFileSync } from 'node:fs';

/** Linux clock ticks per second for /proc/<pid>/stat times (USER_HZ: 100 on every mainstream kernel). */
const CLOCK_TICKS_PER_S = 100;

/** Resident set size of a process, in bytes, from /proc (NaN when it is gone). */
export function rssBytes(pid: number | undefined): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** CPU time (user + system) a process has used so far, in ms, from /proc (10 ms resolution). */
export function cpuMs(pid: number | undefined): number {
  try {
    // After the command name in parentheses: field 3 is the state; utime and stime are fields 14 and 15.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_S;
  } catch {
    return NaN;
  }
}

/** A process's memory after a full GC, as `process.memoryUsage()` reports it. */
export interface MemorySample {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

/** Redis commands a process has sent (counted by the bench's preload in ioredis). */
export interface RedisCommandCounts {
  commands: number;
  /** Sent on their own: one round trip each. */
  standalone: number;
  /** Sent inside a pipeline or MULTI (many per round trip). */
  pipelined: number;
  /** Pipelines and MULTIs: standalone + pipelines is the number of round trips. */
  pipelines: number;
  byName: Record<string, number>;
}

/** One IMAP command a connection ran after an EXISTS (ms since the epoch, sub-ms precision). */
export interface TracedCommand {
  command: string;
  startAt: number;
  endAt: number;
}

/** An EXISTS a role's IMAP connection received, and the commands that connection ran next. */
export interface ExistsTrace {
  user: string;
  count: number;
  at: number;
  commands: TracedCommand[];
}

/** What the preload traced since the previous probe (both reset at each probe). */
export interface RoleTrace {
  exists: ExistsTrace[];
  /** The process's event-loop delay (perf_hooks, sampled every 10 ms), in ms. */
  eventLoopDelayMs: { p50: number; p99: number; max: number; mean: number };
}

export interface ProbeSample extends MemorySample {
  seq: number;
  redis: RedisCommandCounts;
  trace: RoleTrace;
}
