import { spawn, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { Socket } from 'node:net';
import { delimiter, join } from 'node:path';

/*
 * Servers run under a small sh watchdog in their own process group (spawn `detached` = setsid):
 *  - the server's death (e.g. a failed bind) kills the group, so the caller learns it at once;
 *  - the watchdog reads a pipe from this process: when this process dies, even by SIGKILL, the
 *    pipe reaches EOF and the watchdog kills the whole group, so no server outlives its test;
 *  - stopping is one SIGKILL to the group, which also takes every child the server forked.
 */
const WATCHDOG_SCRIPT = [
  'exec 3<&0',
  '"$@" 3<&- </dev/null &',
  'server=$!',
  '{ read -r _ <&3; kill -9 0; } &',
  'wait "$server"',
  'kill -9 0',
].join('\n');

export interface GuardedProcess {
  /** Process-group id (the watchdog's pid). */
  readonly pgid: number;
  /** Resolves once the group is gone (the server died or was killed). */
  readonly exited: Promise<void>;
  hasExited(): boolean;
  /** SIGKILLs the whole process group and waits for it. Idempotent. */
  kill(): Promise<void>;
}

export function spawnGuarded(command: string, args: string[], opts: { outputFile: string }): GuardedProcess {
  const out = openSync(opts.outputFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn('/bin/sh', ['-c', WATCHDOG_SCRIPT, 'mailpush-guard', command, ...args], {
      detached: true,
      stdio: ['pipe', out, out],
    });
  } finally {
    closeSync(out);
  }
  const pgid = child.pid;
  if (pgid === undefined) throw new Error(`could not spawn ${command}`);
  let done = false;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      done = true;
      unregister();
      resolve();
    });
  });
  child.on('error', () => undefined);
  child.stdin?.on('error', () => undefined);
  const killGroup = (): void => {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  const unregister = onProcessExit(killGroup);
  // A test that forgets stop() must not keep its process alive: the exit hook and the watchdog
  // clean up after it.
  child.unref();
  if (child.stdin instanceof Socket) child.stdin.unref();
  return {
    pgid,
    exited,
    hasExited: () => done,
    async kill() {
      if (done) return;
      child.ref();
      killGroup();
      await exited;
    },
  };
}

const exitHooks = new Set<() => void>();
let exitHookInstalled = false;

/** Runs `hook` synchronously when this process exits; returns a function that cancels it. */
export function onProcessExit(hook: () => void): () => void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const h of exitHooks) {
        try {
          h();
        } catch {
          // keep running the other hooks
        }
      }
    });
  }
  exitHooks.add(hook);
  return () => exitHooks.delete(hook);
}

export interface TemporaryDir {
  path: string;
  /** Removes the folder now (it is removed anyway when this process exits). */
  remove(): void;
}

const OWNER_FILE = '.owner-pid';
/** A folder without an owner file this old was abandoned between mkdtemp and writing the file. */
const UNOWNED_GRACE_MS = 60_000;
const sweptPrefixes = new Set<string>();

/**
 * A fresh folder under the system temp dir, removed by remove() or when this process exits. A
 * process killed outright cannot clean up: its folders are swept by the next process that makes
 * one with the same prefix, once their owner is gone.
 */
export function makeTemporaryDir(prefix: string): TemporaryDir {
  sweepAbandoned(prefix);
  const path = mkdtempSync(join(tmpdir(), prefix));
  writeFileSync(join(path, OWNER_FILE), String(process.pid));
  const remove = (): void => rmSync(path, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 });
  const cancel = onProcessExit(remove);
  return {
    path,
    remove() {
      cancel();
      remove();
    },
  };
}

function sweepAbandoned(prefix: string): void {
  if (sweptPrefixes.has(prefix)) return;
  sweptPrefixes.add(prefix);
  try {
    for (const name of readdirSync(tmpdir())) {
      if (!name.startsWith(prefix)) continue;
      const path = join(tmpdir(), name);
      try {
        const ownerFile = join(path, OWNER_FILE);
        if (existsSync(ownerFile)) {
          const owner = Number(readFileSync(ownerFile, 'utf8'));
          if (Number.isInteger(owner) && owner > 0 && isAlive(owner)) continue;
        } else if (Date.now() - statSync(path).mtimeMs < UNOWNED_GRACE_MS) {
          continue;
        }
        rmSync(path, { recursive: true, force: true });
      } catch {
        // someone else is sweeping or using it: leave it
      }
    }
  } catch {
    // an unreadable temp dir only means no sweeping
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Finds an executable on PATH or in the usual system folders (PATH may lack /usr/sbin). */
export function findExecutable(name: string, extraDirs: string[] = []): string {
  const dirs = [
    ...(process.env.PATH ?? '').split(delimiter),
    '/usr/local/sbin',
    '/usr/local/bin',
    '/usr/sbin',
    '/usr/bin',
    '/sbin',
    '/bin',
    ...extraDirs,
  ];
  for (const dir of dirs) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(`${name} not found on PATH or in ${dirs.join(', ')}`);
}
