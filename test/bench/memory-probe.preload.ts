/**
 * Loaded into a mailpush role by the benchmark (NODE_OPTIONS="--expose-gc --require <this file>"),
 * never by the product: on SIGUSR2 it runs a full GC and writes the process's memory to
 * `<MAILPUSH_BENCH_PROBE_DIR>/<pid>.json`, so the bench reads a worker's steady-state heap without
 * any code in the worker itself.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import type { MemorySample } from './process-stats';

const dir = process.env.MAILPUSH_BENCH_PROBE_DIR;
/** Set by `npm run bench -- --profile`: every probe also writes a heap snapshot there. */
const snapshotDir = process.env.MAILPUSH_BENCH_SNAPSHOT_DIR;
const collect = (globalThis as { gc?: () => void }).gc;

if (dir !== undefined && collect !== undefined) {
  let seq = 0;
  process.on('SIGUSR2', () => {
    // Twice: the first pass can leave garbage that only a second one reclaims (weak refs, finalizers).
    collect();
    collect();
    const m = process.memoryUsage();
    const sample: MemorySample & { seq: number } = {
      seq: ++seq,
      rss: m.rss,
      heapUsed: m.heapUsed,
      heapTotal: m.heapTotal,
      external: m.external,
      arrayBuffers: m.arrayBuffers,
    };
    const path = join(dir, `${process.pid}.json`);
    writeFileSync(`${path}.tmp`, JSON.stringify(sample));
    if (snapshotDir) writeHeapSnapshot(join(snapshotDir, `${process.pid}-${sample.seq}.heapsnapshot`));
    renameSync(`${path}.tmp`, path);
  });
}
