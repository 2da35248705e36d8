import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { eventually } from './eventually';
import { freePort, waitForPortClosed } from './free-port';
import {
  findExecutable,
  makeTemporaryDir,
  spawnGuarded,
  type GuardedProcess,
  type TemporaryDir,
} from './guarded-process';

export interface RedisHandle {
  url: string;
  port: number;
  stop(): Promise<void>;
}

const START_ATTEMPTS = 5;
const START_TIMEOUT_MS = 10_000;
const PING_TIMEOUT_MS = 1_000;

/** A private redis-server on a free 127.0.0.1 port: no persistence, `noeviction` (BullMQ needs it). */
export async function startRedis(): Promise<RedisHandle> {
  const tmp = makeTemporaryDir('mailpush-redis-');
  const dir = tmp.path;
  const logFile = join(dir, 'redis.log');
  const redisServer = findExecutable('redis-server');
  try {
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const proc = spawnGuarded(
        redisServer,
        [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--save',
          '',
          '--appendonly',
          'no',
          '--maxmemory-policy',
          'noeviction',
          '--dir',
          dir,
          '--daemonize',
          'no',
        ],
        { outputFile: logFile },
      );
      const state = await eventually(
        async () => {
          if (proc.hasExited()) return 'exited' as const;
          await ping(port);
          return 'ready' as const;
        },
        { timeoutMs: START_TIMEOUT_MS, intervalMs: 10, message: `redis-server on port ${port} did not answer PING` },
      ).catch(async (err: unknown) => {
        await proc.kill();
        throw err;
      });
      if (state === 'ready') return handle(port, proc, tmp);
      const log = readFileSync(logFile, 'utf8');
      // Lost the race for the port to another process: take another one.
      if (attempt < START_ATTEMPTS && /in use|bind/i.test(log)) continue;
      throw new Error(`redis-server exited during start-up:\n${log.slice(-2000)}`);
    }
  } catch (err) {
    tmp.remove();
    throw err;
  }
}

function handle(port: number, proc: GuardedProcess, tmp: TemporaryDir): RedisHandle {
  let stopped = false;
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async stop() {
      if (stopped) return;
      stopped = true;
      await proc.kill();
      await waitForPortClosed(port);
      tmp.remove();
    },
  };
}

/** One PING over a raw socket; resolves on +PONG. */
function ping(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    const finish = (err?: Error): void => {
      socket.destroy();
      if (err) reject(err);
      else resolve();
    };
    socket.setTimeout(PING_TIMEOUT_MS, () => finish(new Error('PING timed out')));
    socket.once('error', finish);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (!reply.includes('\r\n')) return;
      finish(reply.startsWith('+PONG') ? undefined : new Error(`PING answered ${JSON.stringify(reply)}`));
    });
  });
}
