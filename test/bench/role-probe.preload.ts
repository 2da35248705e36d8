/**
 * Loaded into a mailpush role by the benchmark (NODE_OPTIONS="--expose-gc --require <this file>"),
 * never by the product. It counts the Redis commands the process sends (ioredis is patched here,
 * at the prototype, so the product code is untouched), and on SIGUSR2 it runs a full GC and writes
 * the process's memory and those counts to `<MAILPUSH_BENCH_PROBE_DIR>/<pid>.json`.
 */
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import { Redis } from 'ioredis';
import type { ProbeSample, RedisCommandCounts } from './process-stats';

const dir = process.env.MAILPUSH_BENCH_PROBE_DIR;
/**
 * Set by `npm run bench -- --profile`: a memory probe (the bench creates `<pid>.snapshot` beside
 * the sample file first) also writes a heap snapshot there.
 */
const snapshotDir = process.env.MAILPUSH_BENCH_SNAPSHOT_DIR;
const collect = (globalThis as { gc?: () => void }).gc;

const counts: RedisCommandCounts = { commands: 0, standalone: 0, pipelined: 0, pipelines: 0, byName: {} };
const pipelinesSeen = new WeakSet<object>();

if (dir !== undefined && collect !== undefined) {
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
