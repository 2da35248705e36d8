import { fork, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import type { MemorySample } from '../process-stats';
import type { HolderCommand, HolderLogin, HolderMode, HolderReport } from './idle-holder.protocol';

export interface OpenResult {
  opened: number;
  failed: number;
  firstError?: string;
  ms: number;
  /** EXISTS of each INBOX when it was examined (raw and observe modes). */
  exists: Record<string, number>;
}

/** The parent's handle on an {@link idle-holder.process} child. */
export class IdleHolder {
  private readonly exited: Promise<void>;
  private readonly waiters: { type: HolderReport['type']; resolve: (r: HolderReport) => void }[] = [];
  private existsListener: ((user: string, count: number, at: number) => void) | undefined;

  private constructor(
    private readonly child: ChildProcess,
    private readonly onProgress: (opened: number, total: number) => void,
  ) {
    this.exited = new Promise((done) => child.once('exit', () => done()));
    child.on('message', (report: HolderReport) => {
      if (report.type === 'progress') return this.onProgress(report.opened, report.total);
      if (report.type === 'exists') return this.existsListener?.(report.user, report.count, report.at);
      const i = this.waiters.findIndex((w) => w.type === report.type);
      if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(report);
    });
    process.once('exit', () => child.kill('SIGKILL'));
  }

  static start(
    onProgress: (opened: number, total: number) => void = () => undefined,
    env: Record<string, string> = {},
  ): IdleHolder {
    const child = fork(resolve(__dirname, 'idle-holder.process.js'), [], {
      execArgv: ['--expose-gc'],
      env: { ...process.env, ...env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new IdleHolder(child, onProgress);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  onExists(listener: (user: string, count: number, at: number) => void): void {
    this.existsListener = listener;
  }

  async open(
    mode: HolderMode,
    host: string,
    port: number,
    logins: HolderLogin[],
    concurrency = 16,
  ): Promise<OpenResult> {
    const r = await this.request({ type: 'open', mode, host, port, logins, concurrency }, 'opened');
    if (r.type !== 'opened') throw new Error('holder: unexpected answer');
    const { type: _type, ...result } = r;
    return result;
  }

  /** Memory after two full GCs. */
  async measure(): Promise<MemorySample> {
    const r = await this.request({ type: 'measure' }, 'memory');
    if (r.type !== 'memory') throw new Error('holder: unexpected answer');
    return r.sample;
  }

  async close(): Promise<void> {
    if (this.child.connected) await this.request({ type: 'close' }, 'closed').catch(() => undefined);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await this.exited;
    clearTimeout(timer);
  }

  private request(cmd: HolderCommand, answer: HolderReport['type']): Promise<HolderReport> {
    return new Promise((resolve, reject) => {
      this.waiters.push({ type: answer, resolve });
      this.child.send(cmd, (err) => (err ? reject(err) : undefined));
      void this.exited.then(() => reject(new Error('holder process exited')));
    });
  }
}
