import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname } from 'node:path';
import { findExecutable } from '../harness';

export type RowName = 'density' | 'latency' | 'push' | 'coldstart';
export const ROW_NAMES: readonly RowName[] = ['density', 'latency', 'push', 'coldstart'];

/** One line of the table: mailpush beside its floor, measured in the same run. */
export interface Figure {
  measure: string;
  unit: string;
  mailpush: number;
  floor?: number;
  /** What the floor is, in a few words. */
  floorName?: string;
  /** mailpush / floor: for a cost, how many times the floor; for a rate, the share of the floor's rate reached. */
  ratio?: number;
}

export interface RowResult {
  row: RowName;
  title: string;
  figures: Figure[];
  /** Everything else the row measured (counts, settings, raw samples' summaries). */
  details: Record<string, unknown>;
}

export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  dovecot: string;
  redis: string;
  kernel: string;
  loadAverageAtStart: number[];
}

export function readMachine(): Machine {
  const version = (cmd: string, args: string[]): string => {
    try {
      return execFileSync(findExecutable(cmd), args, { encoding: 'utf8' }).trim().split('\n')[0] ?? '';
    } catch {
      return 'unknown';
    }
  };
  const redis = /v=(\S+)/.exec(version('redis-server', ['--version']))?.[1] ?? 'unknown';
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    dovecot: version('dovecot', ['--version']),
    redis,
    kernel: version('uname', ['-r']),
    loadAverageAtStart: (execFileSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).split(' ').slice(0, 3) ?? []).map(
      Number,
    ),
  };
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, i)]!;
}

export interface Distribution {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export function distribution(values: readonly number[]): Distribution {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? NaN,
  };
}

function fmt(v: number | undefined): string {
  if (v === undefined || Number.isNaN(v)) return '—';
  const a = Math.abs(v);
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

/** The table printed at the end (and in docs/benchmarks.md). */
export function formatTable(rows: RowResult[]): string {
  const header = ['row', 'measure', 'unit', 'mailpush', 'floor', 'ratio', 'floor is'];
  const lines: string[][] = [header];
  for (const r of rows) {
    for (const f of r.figures) {
      lines.push([
        r.row,
        f.measure,
        f.unit,
        fmt(f.mailpush),
        fmt(f.floor),
        f.ratio === undefined ? '' : `${fmt(f.ratio)}×`,
        f.floorName ?? '',
      ]);
    }
  }
  const widths = header.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
  const render = (l: string[]) => `| ${l.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [render(lines[0]!), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...lines.slice(1).map(render)].join(
    '\n',
  );
}

export interface BenchReport {
  startedAt: string;
  finishedAt: string;
  command: string;
  options: unknown;
  machine: Machine;
  rows: RowResult[];
  errors: { row: RowName; error: string }[];
}

export function writeReport(path: string, report: BenchReport): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(report, null, 2) + '\n');
}
