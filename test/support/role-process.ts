import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

export type Role = 'api' | 'worker' | 'dispatcher' | 'all';

const DIST = resolve(__dirname, '../../apps');

/** A mailpush role running as a real child process, with its output captured for assertions. */
export class RoleProcess {
  readonly output: string[] = [];
  private readonly exited: Promise<number | null>;

  private constructor(
    readonly role: Role,
    private readonly child: ChildProcess,
  ) {
    const collect = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line) this.output.push(line);
      if (process.env.MAILPUSH_TEST_VERBOSE) process.stderr.write(`[${role}] ${chunk.toString('utf8')}`);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    this.exited = new Promise((done) => child.once('exit', (code) => done(code)));
  }

  /** The ops server is off unless `env` asks for one: specs run side by side, each role's default port would collide. */
  static start(role: Role, env: Record<string, string>): RoleProcess {
    const child = spawn(process.execPath, [resolve(DIST, role, 'src/main.js')], {
      env: { ...process.env, MAILPUSH_OPS_PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const proc = new RoleProcess(role, child);
    const kill = () => child.kill('SIGKILL');
    process.once('exit', kill);
    void proc.exited.then(() => process.removeListener('exit', kill));
    return proc;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Graceful stop (SIGTERM), escalating to SIGKILL after a deadline. */
  async stop(timeoutMs = 10_000): Promise<number | null> {
    if (!this.running) return this.exited;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  async kill(): Promise<void> {
    if (this.running) this.child.kill('SIGKILL');
    await this.exited;
  }

  logText(): string {
    return this.output.join('\n');
  }
}
