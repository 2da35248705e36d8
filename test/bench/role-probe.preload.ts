/**
 * Loaded into a mailpush role by the benchmark (NODE_OPTIONS="--expose-gc --require <this file>"),
 * never by the product. It counts the Redis commands the process sends (ioredis is patched here,
 * at the prototype, so the product code is untouched), and on SIGUSR2 it runs a full GC and writes
 * the process's memory and those counts to `<MAILPUSH_BENCH_PROBE_DIR>/<pid>.json`. It also traces,
 * for the latency row, when each IMAP connection received an EXISTS and the commands it ran next
 * (imapflow patched the same way), and the event loop's delay; both are reset at each probe.
 */
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { writeHeapSnapshot } from 'node:v8';
import { ImapFlow } from 'imapflow';
import { Redis } from 'ioredis';
import type { ExistsTrace, ProbeSample, RedisCommandCounts, RoleTrace } from './process-stats';

const dir = process.env.MAILPUSH_BENCH_PROBE_DIR;
/**
 * Set by `npm run bench -- --profile`: a memory probe (the bench creates `<pid>.snapshot` beside
 * the sample file first) also writes a heap snapshot there.
 */
const snapshotDir = process.env.MAILPUSH_BENCH_SNAPSHOT_DIR;
const collect = (globalThis as { gc?: () => void }).gc;

const counts: RedisCommandCounts = { commands: 0, standalone: 0, pipelined: 0, pipelines: 0, byName: {} };
const pipelinesSeen = new WeakSet<object>();

/** Bounds the trace between two probes (a latency row sends a few thousand messages). */
const MAX_TRACES = 50_000;
const MAX_COMMANDS_PER_TRACE = 8;
const NS_PER_MS = 1e6;
let traces: ExistsTrace[] = [];
const currentTrace = new WeakMap<ImapFlow, ExistsTrace>();
const LOOP_DELAY_RESOLUTION_MS = 10;
const loopDelay = monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS });
/** Sub-ms wall-clock time, comparable with the bench's Date.now(). */
const now = (): number => performance.timeOrigin + performance.now();

function traceImapFlow(): void {
  const emit = ImapFlow.prototype.emit;
  ImapFlow.prototype.emit = function (this: ImapFlow, event: string | symbol, ...args: unknown[]) {
    const data = args[0];
    if (
      event === 'exists' &&
      typeof data === 'object' &&
      data !== null &&
      'count' in data &&
      traces.length < MAX_TRACES
    ) {
      const user = this.options.auth?.user ?? '';
      const trace: ExistsTrace = { user, count: Number(data.count), at: now(), commands: [] };
      traces.push(trace);
      currentTrace.set(this, trace);
    }
    return emit.call(this, event, ...args);
  };
  // `run` (every command, IDLE included, after breaking an IDLE in progress) is imapflow-internal.
  const run: unknown = Reflect.get(ImapFlow.prototype, 'run');
  if (typeof run !== 'function') return;
  Reflect.set(ImapFlow.prototype, 'run', async function (this: ImapFlow, command: unknown, ...args: unknown[]) {
    const startAt = now();
    try {
      const result: unknown = await Reflect.apply(run, this, [command, ...args]);
      return result;
    } finally {
      // Filed under the EXISTS current when it ends: the IDLE an EXISTS interrupts starts before it.
      const trace = currentTrace.get(this);
      if (trace && trace.commands.length < MAX_COMMANDS_PER_TRACE)
        trace.commands.push({ command: String(command).toUpperCase(), startAt, endAt: now() });
    }
  });
}

function takeTrace(): RoleTrace {
  // The histogram records whole sampling intervals: the delay is what exceeds the resolution.
  const ms = (ns: number) => (Number.isFinite(ns) ? Math.max(0, ns / NS_PER_MS - LOOP_DELAY_RESOLUTION_MS) : 0);
  const trace: RoleTrace = {
    exists: traces,
    eventLoopDelayMs: {
      p50: ms(loopDelay.percentile(50)),
      p99: ms(loopDelay.percentile(99)),
      max: ms(loopDelay.max),
      mean: ms(loopDelay.mean),
    },
  };
  traces = [];
  loopDelay.reset();
  return trace;
}

if (dir !== undefined && collect !== undefined) {
  traceImapFlow();
  loopDelay.enable();
  const send = Redis.prototype.sendCommand;
  Redis.prototype.sendCommand = function (this: Redis, ...args: Parameters<Redis['sendCommand']>) {
    const [command, stream] = args;
    counts.commands++;
    // ioredis passes a stream only for a pipeline's (or MULTI's) commands, all written at once.
    if (stream === undefined) counts.standalone++;
    else {
      counts.pipelined++;
      if (!pipelinesSeen.has(stream)) {
        pipelinesSeen.add(stream);
        counts.pipelines++;
      }
    }
    counts.byName[command.name] = (counts.byName[command.name] ?? 0) + 1;
    return send.apply(this, args);
  };

  let seq = 0;
  process.on('SIGUSR2', () => {
    // Before the GCs below, which would count as loop delay.
    const trace = takeTrace();
    // Twice: the first pass can leave garbage that only a second one reclaims (weak refs, finalizers).
    collect();
    collect();
    const m = process.memoryUsage();
    const sample: ProbeSample = {
      seq: ++seq,
      rss: m.rss,
      heapUsed: m.heapUsed,
      heapTotal: m.heapTotal,
      external: m.external,
      arrayBuffers: m.arrayBuffers,
      redis: { ...counts, byName: { ...counts.byName } },
      trace,
    };
    const path = join(dir, `${process.pid}.json`);
    writeFileSync(`${path}.tmp`, JSON.stringify(sample));
    const wanted = join(dir, `${process.pid}.snapshot`);
    if (snapshotDir && existsSync(wanted)) {
      rmSync(wanted, { force: true });
      writeHeapSnapshot(join(snapshotDir, `${process.pid}-${sample.seq}.heapsnapshot`));
    }
    renameSync(`${path}.tmp`, path);
  });
}
