import assert from 'node:assert/strict';
import type { DovecotHandle, DovecotUser } from '../harness';
import { settle, startRole, type BenchRole, type BenchStack } from './bench-stack';
import type { Figure, RowResult } from './bench-report';
import { IdleHolder } from './floors/idle-holder.client';
import type { HolderMode } from './floors/idle-holder.protocol';
import type { MemorySample } from './process-stats';
import { log } from './bench-progress';

/** Per mailbox: the delta over the same process with no connection, after a full GC. */
export interface PerMailbox {
  rssKb: number;
  heapKb: number;
  /**
   * Heap V8 reserved (heapTotal), live or not: after a connect storm V8 keeps tens of KB per
   * connection of emptied heap for a while, a large and noisy part of RSS.
   */
  heapReservedKb: number;
  /** Off-heap memory Node accounts for (TLS and socket buffers, ArrayBuffers). */
  externalKb: number;
}

export function perMailbox(before: MemorySample, after: MemorySample, n: number): PerMailbox {
  const kb = (d: number) => d / 1024 / n;
  return {
    rssKb: kb(after.rss - before.rss),
    heapKb: kb(after.heapUsed - before.heapUsed),
    heapReservedKb: kb(after.heapTotal - before.heapTotal),
    externalKb: kb(after.external - before.external),
  };
}

export interface FloorDensity {
  mode: HolderMode;
  perMailbox: PerMailbox;
  before: MemorySample;
  after: MemorySample;
  /** Unpaced: N connects with 16 in flight, for comparison with the worker's paced cold start. */
  openMs: number;
}

/** Holds the N mailboxes with a bare imapflow script, then with raw TLS sockets, one after the other. */
export async function measureFloors(
  dovecot: DovecotHandle,
  logins: DovecotUser[],
  settleMs: number,
  env: Record<string, string> = {},
): Promise<FloorDensity[]> {
  const out: FloorDensity[] = [];
  for (const mode of ['imapflow', 'raw'] as const) {
    const holder = IdleHolder.start((opened, total) => log(`${mode}: ${opened}/${total} connections idle`), env);
    try {
      await settle(settleMs);
      const before = await holder.measure();
      const opened = await holder.open(mode, dovecot.host, dovecot.port, logins);
      assert.equal(opened.failed, 0, `${mode} floor: ${opened.failed} connections failed (${opened.firstError})`);
      await settle(settleMs);
      const after = await holder.measure();
      const per = perMailbox(before, after, logins.length);
      log(
        `${mode}: ${logins.length} connections in ${(opened.ms / 1000).toFixed(1)} s; ${per.rssKb.toFixed(1)} KB RSS, ${per.heapKb.toFixed(1)} KB heap per mailbox`,
      );
      out.push({ mode, perMailbox: per, before, after, openMs: opened.ms });
    } finally {
      await holder.close();
    }
  }
  return out;
}

/** A worker with no account at all: the process the per-mailbox deltas are taken over. */
export async function emptyWorkerMemory(stack: BenchStack): Promise<MemorySample> {
  const worker = await startRole(stack, 'worker');
  try {
    await settle(stack.settleMs);
    return await worker.memory();
  } finally {
    await worker.proc.stop();
  }
}

export async function workerDensity(worker: BenchRole, settleMs: number): Promise<MemorySample> {
  await settle(settleMs);
  return worker.memory();
}

export function densityRow(
  n: number,
  floors: FloorDensity[],
  empty: MemorySample,
  loaded: MemorySample,
  redisBytesPerMailbox: number,
): RowResult {
  const worker = perMailbox(empty, loaded, n);
  const imapflow = floors.find((f) => f.mode === 'imapflow');
  const raw = floors.find((f) => f.mode === 'raw');
  assert.ok(imapflow && raw);
  const figures: Figure[] = [];
  for (const [measure, k] of [
    ['RSS per mailbox', 'rssKb'],
    ['JS heap per mailbox', 'heapKb'],
  ] as const) {
    figures.push({
      measure: `${measure} (worker vs bare imapflow)`,
      unit: 'KB',
      mailpush: worker[k],
      floor: imapflow.perMailbox[k],
      floorName: 'bare imapflow, same N',
      ratio: worker[k] / imapflow.perMailbox[k],
    });
    figures.push({
      measure: `${measure} (bare imapflow vs raw TLS)`,
      unit: 'KB',
      mailpush: imapflow.perMailbox[k],
      floor: raw.perMailbox[k],
      floorName: 'raw TLS socket in IDLE, same N',
      ratio: imapflow.perMailbox[k] / raw.perMailbox[k],
    });
  }
  return {
    row: 'density',
    title: `Density: ${n} TLS mailboxes in IDLE in one process`,
    figures,
    details: {
      mailboxes: n,
      perMailbox: { worker, imapflow: imapflow.perMailbox, raw: raw.perMailbox },
      samples: {
        worker: { empty, loaded },
        imapflow: { empty: imapflow.before, loaded: imapflow.after },
        raw: { empty: raw.before, loaded: raw.after },
      },
      floorConnectMs: { imapflow: imapflow.openMs, raw: raw.openMs },
      redisBytesPerMailbox,
    },
  };
}
