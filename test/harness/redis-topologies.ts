import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { eventually } from './eventually';
import { freePorts } from './free-port';
import { findExecutable, makeTemporaryDir, spawnGuarded, type GuardedProcess } from './guarded-process';

/** A redis-server (or sentinel) of a topology: its port and how to kill it (SIGKILL, no goodbye). */
export interface RedisNodeHandle {
  port: number;
  kill(): Promise<void>;
}

export interface SentinelSetHandle {
  /** The name the sentinels monitor the primary under. */
  name: string;
  primary: RedisNodeHandle;
  replica: RedisNodeHandle;
  sentinels: RedisNodeHandle[];
  /** `127.0.0.1:p1,127.0.0.1:p2,…` for REDIS_SENTINELS. */
  sentinelList: string;
  /** The port the sentinels currently name as primary. */
  currentPrimaryPort(): Promise<number>;
  stop(): Promise<void>;
}

export interface ClusterHandle {
  nodes: RedisNodeHandle[];
  /** `127.0.0.1:p1,…` for REDIS_CLUSTER_NODES. */
  nodeList: string;
  stop(): Promise<void>;
}

const BASE_ARGS = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'];

function startNode(
  dir: string,
  name: string,
  port: number,
  extra: string[],
): RedisNodeHandle & { proc: GuardedProcess } {
  const proc = spawnGuarded(
    findExecutable('redis-server'),
    ['--port', String(port), '--dir', dir, '--daemonize', 'no', ...BASE_ARGS, ...extra],
    { outputFile: join(dir, `${name}.log`) },
  );
  return { port, proc, kill: () => proc.kill() };
}

async function waitForPing(port: number): Promise<void> {
  await eventually(
    async () => {
      const c = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      c.on('error', () => undefined);
      try {
        await c.connect();
        await c.ping();
      } finally {
        c.disconnect();
      }
    },
    { timeoutMs: 10_000, intervalMs: 50, message: `redis on ${port} did not answer` },
  );
}

/**
 * A primary, one replica and three sentinels (quorum 2) on free loopback ports, with a short
 * down-after so a killed primary is replaced within a few seconds.
 */
export async function startSentinelSet(options: { downAfterMs?: number } = {}): Promise<SentinelSetHandle> {
  const tmp = makeTemporaryDir('mailpush-sentinel-');
  const name = 'mailpush';
  const [p1, p2, s1, s2, s3] = await freePorts(5);
  const ports = [p1, p2, s1, s2, s3] as [number, number, number, number, number];
  const primary = startNode(tmp.path, 'primary', ports[0], []);
  const replica = startNode(tmp.path, 'replica', ports[1], ['--replicaof', '127.0.0.1', String(ports[0])]);
  await Promise.all([waitForPing(ports[0]), waitForPing(ports[1])]);
  const sentinels = ports.slice(2).map((port, i) => {
    const conf = join(tmp.path, `sentinel-${i}.conf`);
    writeFileSync(
      conf,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${tmp.path}`,
        `sentinel monitor ${name} 127.0.0.1 ${ports[0]} 2`,
        `sentinel down-after-milliseconds ${name} ${options.downAfterMs ?? 1000}`,
        `sentinel failover-timeout ${name} 10000`,
        `sentinel parallel-syncs ${name} 1`,
        '',
      ].join('\n'),
    );
    const proc = spawnGuarded(findExecutable('redis-server'), [conf, '--sentinel'], {
      outputFile: join(tmp.path, `sentinel-${i}.log`),
    });
    return { port, proc, kill: () => proc.kill() };
  });
  await Promise.all(sentinels.map((s) => waitForPing(s.port)));
  const askSentinel = async (): Promise<number> => {
    const c = new Redis(sentinels[0]!.port, '127.0.0.1', { maxRetriesPerRequest: 1 });
    c.on('error', () => undefined);
    try {
      const addr = (await c.call('SENTINEL', 'get-master-addr-by-name', name)) as [string, string];
      return Number(addr[1]);
    } finally {
      c.disconnect();
    }
  };
  // Ready when the replica is in sync and every sentinel knows the others.
  await eventually(
    async () => {
      const c = new Redis(sentinels[0]!.port, '127.0.0.1', { maxRetriesPerRequest: 1 });
      c.on('error', () => undefined);
      try {
        const master = (await c.call('SENTINEL', 'master', name)) as string[];
        const field = (k: string) => master[master.indexOf(k) + 1];
        if (Number(field('num-other-sentinels')) < 2 || Number(field('num-slaves')) < 1) throw new Error('not yet');
      } finally {
        c.disconnect();
      }
    },
    { timeoutMs: 20_000, intervalMs: 100, message: 'sentinels never saw each other and the replica' },
  );
  return {
    name,
    primary,
    replica,
    sentinels,
    sentinelList: sentinels.map((s) => `127.0.0.1:${s.port}`).join(','),
    currentPrimaryPort: askSentinel,
    async stop() {
      await Promise.all([primary, replica, ...sentinels].map((n) => n.kill()));
      tmp.remove();
    },
  };
}

/** Three cluster-enabled primaries joined by `redis-cli --cluster create` (no replicas). */
export async function startCluster(): Promise<ClusterHandle> {
  const tmp = makeTemporaryDir('mailpush-cluster-');
  // Cluster bus ports are port + 10000: keep below 55536.
  let ports: number[] = [];
  while (ports.length < 3) ports = (await freePorts(6)).filter((p) => p < 55_000).slice(0, 3);
  const nodes = ports.map((port, i) =>
    startNode(tmp.path, `node-${i}`, port, [
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      join(tmp.path, `nodes-${i}.conf`),
      '--cluster-node-timeout',
      '2000',
    ]),
  );
  await Promise.all(ports.map(waitForPing));
  const create = spawnSync(
    findExecutable('redis-cli'),
    ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'],
    { encoding: 'utf8', timeout: 30_000 },
  );
  if (create.status !== 0) {
    await Promise.all(nodes.map((n) => n.kill()));
    throw new Error(`redis-cli --cluster create failed:\n${create.stdout}\n${create.stderr}`);
  }
  await eventually(
    async () => {
      const c = new Redis(ports[0]!, '127.0.0.1', { maxRetriesPerRequest: 1 });
      c.on('error', () => undefined);
      try {
        const info = (await c.call('CLUSTER', 'INFO')) as string;
        if (!info.includes('cluster_state:ok')) throw new Error('cluster not ok yet');
      } finally {
        c.disconnect();
      }
    },
    { timeoutMs: 20_000, intervalMs: 100, message: 'cluster never reached state ok' },
  );
  return {
    nodes,
    nodeList: ports.map((p) => `127.0.0.1:${p}`).join(','),
    async stop() {
      await Promise.all(nodes.map((n) => n.kill()));
      tmp.remove();
    },
  };
}
