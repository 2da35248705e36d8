import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { resolve } from 'node:path';
import { Queue } from 'bullmq';
import { loadConfig } from '@mailpush/config';
import { JOB_DEFAULTS, JobName, QueueName, type MailEvent } from '@mailpush/queue';
import { DeviceRepository, UserRepository, type Device } from '@mailpush/store';
import { makeMailEvent } from '../dispatch/dispatch.fixture';
import { eventually } from '../harness';
import { makeApnsToken, makeFcmToken } from '../support/factories';
import { waitForQueuesDrained } from '../support/queue-drain';
import { redisSnapshot, redisWork, startRole, type BenchStack, type RedisWork } from './bench-stack';
import type { Figure, RowResult } from './bench-report';
import type { FloorCommand, FloorKind, FloorReport, ReplayRequest } from './floors/push-floor.protocol';
import { cpuMs } from './process-stats';
import { log } from './bench-progress';

export interface PushOptions {
  users: number;
  devicesPerUser: number;
  messagesPerUser: number;
  /** The dispatcher's MAILPUSH_DISPATCH_CONCURRENCY, and the floor's requests in flight. */
  concurrency: number;
  /** Extra NODE_OPTIONS for the dispatcher (profiling). */
  nodeOptions?: string[];
  /** Also send the APNs notifications through a dispatcher with APNS_CLIENT=http2 (default true). */
  apnsHttp2?: boolean;
}

/** The APNs clients the row measures: the default, then the opt-in alternative (APNS_CLIENT). */
type ApnsClientName = 'node-apn' | 'http2';

const PHASE_TIMEOUT_MS = 180_000;
const DEFAULT_DISPATCH_CONCURRENCY = 50;

interface Recorded {
  token: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  receivedAt: number;
}

/** Counts (and keeps) what the fakes answer 200 for one set of tokens. */
class Tally {
  readonly records: Recorded[] = [];
  /** Distinct notifications (device + body): a retried request the fake had already answered counts once. */
  readonly distinct = new Set<string>();
  duplicates = 0;
  constructor(readonly tokens: Set<string>) {}
  add(r: Recorded): void {
    const key = `${r.token}|${r.body}`;
    if (this.distinct.has(key)) {
      this.duplicates++;
      return;
    }
    this.distinct.add(key);
    this.records.push(r);
  }
  get lastAt(): number {
    return this.records.reduce((m, r) => Math.max(m, r.receivedAt), 0);
  }
}

export interface PushSide {
  /** CLOCK_MONOTONIC µs at the start and end (the clock of a --cpu-prof profile's timestamps). */
  windowUs: [number, number];
  notifications: number;
  ms: number;
  perSecond: number;
  cpuMs: number;
  cpuMsPerNotification: number;
  /** Requests the fake received twice for one notification (a retry after a lost answer). */
  duplicates?: number;
  /** CPU of the bench process itself (the fakes live there) per notification: the floor's ceiling. */
  fakeCpuMsPerNotification: number;
  /** Redis work per notification (the dispatcher's side only). */
  redis?: {
    /** Sent by the dispatcher (a script call is one). */
    commandsPerNotification: number;
    roundTripsPerNotification: number;
    /** Commands Redis executed, scripts' inner calls included. */
    executedPerNotification: number;
    cpuMsPerNotification: number;
    sent: Record<string, number>;
    executed: RedisWork;
  };
}

const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);

const benchCpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

function side(n: number, ms: number, cpu: number, startUs: number, benchCpu0: number): PushSide {
  return {
    windowUs: [startUs, monotonicUs()],
    fakeCpuMsPerNotification: (benchCpuMs() - benchCpu0) / n,
    notifications: n,
    ms,
    perSecond: (n * 1000) / ms,
    cpuMs: cpu,
    cpuMsPerNotification: cpu / n,
  };
}

/**
 * K = users × devices × messages notifications through one real dispatcher process (mail events
 * on `mail-events`, as a worker enqueues them: fan-out, one delivery job per device, APNs or FCM),
 * timed from the enqueue to the fake's last receipt; CPU from /proc. Then the floor process sends
 * the very requests the fake recorded, with the same number in flight, timed the same way. APNs goes
 * through @parse/node-apn (the default), then once more through a dispatcher with APNS_CLIENT=http2,
 * both set against the one floor.
 */
export async function pushRow(stack: BenchStack, o: PushOptions): Promise<RowResult> {
  let tally: Tally | undefined;
  const listen = (r: {
    token?: string;
    status: number;
    path: string;
    headers: Record<string, string>;
    rawBody: string;
    receivedAt: number;
  }) => {
    if (tally && r.status === 200 && r.token !== undefined && tally.tokens.has(r.token))
      tally.add({
        token: r.token,
        path: r.path,
        headers: r.headers,
        body: r.rawBody,
        receivedAt: r.receivedAt,
      });
  };
  stack.apns.onRequest(listen);
  stack.fcm.onRequest(listen);

  const users = new UserRepository(stack.client);
  // Device tokens are sealed at rest: the repository and the dispatcher share the stack's master key.
  const devices = new DeviceRepository(stack.client, loadConfig(stack.env));
  const register = async (platform: 'ios' | 'android', count: number): Promise<Device[][]> => {
    const out: Device[][] = [];
    for (let u = 0; u < count; u++) {
      const { user } = await users.create();
      const mine: Device[] = [];
      for (let d = 0; d < o.devicesPerUser; d++) {
        const input =
          platform === 'ios'
            ? { platform, token: makeApnsToken(), environment: 'production' as const, privacy: 'full' as const }
            : { platform, token: makeFcmToken(), privacy: 'full' as const };
        mine.push((await devices.upsert(user.id, input)).device);
      }
      out.push(mine);
    }
    return out;
  };
  const queue = new Queue<MailEvent, unknown, JobName.NewMail>(QueueName.MailEvents, {
    connection: stack.client,
    prefix: stack.env.MAILPUSH_QUEUE_PREFIX ?? 'mailpush',
    defaultJobOptions: JOB_DEFAULTS[QueueName.MailEvents],
  });
  const startDispatcher = (client: ApnsClientName) =>
    startRole(
      stack,
      'dispatcher',
      { MAILPUSH_DISPATCH_CONCURRENCY: String(o.concurrency), APNS_CLIENT: client },
      o.nodeOptions,
    );
  let dispatcher = await startDispatcher('node-apn');

  /** Enqueues the events of `groups` and waits for every device's notification at the fakes. */
  const throughDispatcher = async (groups: Device[][]): Promise<{ side: PushSide; records: Recorded[] }> => {
    const events = groups.flatMap((g) =>
      Array.from({ length: o.messagesPerUser }, (_, i) => makeMailEvent(g[0]!.userId, { uid: i + 1 })),
    );
    const expected = groups.reduce((n, g) => n + g.length, 0) * o.messagesPerUser;
    const t = new Tally(new Set(groups.flat().map((d) => d.token)));
    tally = t;
    const redis0 = await redisSnapshot(stack.client);
    const sent0 = await dispatcher.redisCommands();
    const pid = dispatcher.proc.pid;
    const cpu0 = cpuMs(pid);
    const startUs = monotonicUs();
    const benchCpu0 = benchCpuMs();
    const started = Date.now();
    await queue.addBulk(events.map((data) => ({ name: JobName.NewMail, data, opts: { jobId: data.messageKey } })));
    await eventually(() => assert.equal(t.records.length, expected), { timeoutMs: PHASE_TIMEOUT_MS, intervalMs: 20 });
    const cpu = cpuMs(pid) - cpu0;
    tally = undefined;
    const s = side(expected, t.lastAt - started, cpu, startUs, benchCpu0);
    s.duplicates = t.duplicates;
    // Wait for the last jobs to be marked completed: their Redis work belongs to these notifications.
    await waitForQueuesDrained(stack.client, PHASE_TIMEOUT_MS, stack.env.MAILPUSH_QUEUE_PREFIX ?? 'mailpush');
    const work = redisWork(redis0, await redisSnapshot(stack.client));
    const sent1 = await dispatcher.redisCommands();
    const byName = Object.entries(sent1.byName)
      .map(([k, v]) => [k, (v - (sent0.byName[k] ?? 0)) / expected] as const)
      .filter(([, v]) => v > 0)
      .sort((a, b) => b[1] - a[1]);
    s.redis = {
      commandsPerNotification: (sent1.commands - sent0.commands) / expected,
      roundTripsPerNotification: (sent1.standalone - sent0.standalone + sent1.pipelines - sent0.pipelines) / expected,
      executedPerNotification: work.commands / expected,
      cpuMsPerNotification: work.cpuMs / expected,
      sent: Object.fromEntries(byName),
      executed: work,
    };
    return { side: s, records: t.records };
  };

  const floor = async (kind: FloorKind, warmup: Recorded, records: Recorded[]): Promise<PushSide> => {
    const child = fork(resolve(__dirname, 'floors/push-floor.process.js'), [], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    const next = (type: FloorReport['type']) =>
      new Promise<FloorReport>((resolveReport, reject) => {
        child.once('message', (m: FloorReport) => (m.type === type ? resolveReport(m) : reject(new Error(m.type))));
        void exited.then(() => reject(new Error('push floor exited')));
      });
    const toReplay = (r: Recorded): ReplayRequest => ({ path: r.path, headers: r.headers, body: r.body });
    try {
      const url = kind === 'apns' ? stack.apns.url : stack.fcm.url;
      const ready = next('ready');
      const prepare: FloorCommand = {
        type: 'prepare',
        kind,
        url,
        concurrency: o.concurrency,
        warmup: toReplay(warmup),
        requests: records.map(toReplay),
      };
      child.send(prepare);
      await ready;
      const t = new Tally(new Set(records.map((r) => r.token)));
      tally = t;
      const cpu0 = cpuMs(child.pid);
      const startUs = monotonicUs();
      const benchCpu0 = benchCpuMs();
      const started = Date.now();
      const done = next('done');
      child.send({ type: 'go' } satisfies FloorCommand);
      const report = await done;
      assert.ok(report.type === 'done' && report.failed === 0, `floor: ${JSON.stringify(report)}`);
      await eventually(() => assert.equal(t.records.length, records.length), { timeoutMs: PHASE_TIMEOUT_MS });
      const cpu = cpuMs(child.pid) - cpu0;
      tally = undefined;
      return side(records.length, t.lastAt - started, cpu, startUs, benchCpu0);
    } finally {
      child.kill();
      await exited;
    }
  };

  try {
    const k = o.users * o.devicesPerUser * o.messagesPerUser;
    log(`push: registering ${o.users} users × ${o.devicesPerUser} devices, for iOS and for Android`);
    const ios = await register('ios', o.users);
    const android = await register('android', o.users);
    const [warmIos, warmAndroid] = [await register('ios', 1), await register('android', 1)];
    // Warm-up: connections to both fakes open, the provider token minted, the code paths run once.
    const warm = await throughDispatcher([warmIos[0]!.slice(0, 1), warmAndroid[0]!.slice(0, 1)]);
    const warmApns = warm.records.find((r) => r.path.startsWith('/3/device/'));
    const warmFcm = warm.records.find((r) => !r.path.startsWith('/3/device/'));
    assert.ok(warmApns && warmFcm);

    const withHttp2 = o.apnsHttp2 ?? true;
    // The second APNs pass needs devices of its own: the first set's messages are delivered already.
    const iosAgain = withHttp2 ? await register('ios', o.users) : [];
    const warmAgain = withHttp2 ? [await register('ios', 1), await register('android', 1)] : [];

    const results = new Map<FloorKind, { dispatcher: PushSide; floor: PushSide }>();
    let apnsHttp2: PushSide | undefined;
    for (const [kind, groups, warmup] of [
      ['apns', ios, warmApns],
      ['fcm', android, warmFcm],
    ] as const) {
      log(`push: ${k} ${kind.toUpperCase()} notifications through the dispatcher…`);
      const through = await throughDispatcher(groups);
      log(
        `push: dispatcher ${through.side.perSecond.toFixed(0)}/s, ${through.side.cpuMsPerNotification.toFixed(3)} ms CPU each ` +
          `(Redis: ${through.side.redis?.roundTripsPerNotification.toFixed(1)} round trips, ${through.side.redis?.cpuMsPerNotification.toFixed(3)} ms CPU each); floor…`,
      );
      const f = await floor(kind, warmup, through.records);
      log(
        `push: floor ${f.perSecond.toFixed(0)}/s, ${f.cpuMsPerNotification.toFixed(3)} ms CPU each (the fake: ${f.fakeCpuMsPerNotification.toFixed(3)} ms each)`,
      );
      results.set(kind, { dispatcher: through.side, floor: f });

      if (kind === 'apns' && withHttp2) {
        // Right after the first pass, so both APNs passes see the same Redis and the same fake: a
        // dispatcher on the opt-in node:http2 client, warmed up like the first (FCM then goes through it).
        await dispatcher.proc.stop();
        dispatcher = await startDispatcher('http2');
        await throughDispatcher(warmAgain.map((devices) => devices[0]!.slice(0, 1)));
        log(`push: ${k} APNS notifications through a dispatcher with APNS_CLIENT=http2…`);
        apnsHttp2 = (await throughDispatcher(iosAgain)).side;
        log(
          `push: dispatcher (http2) ${apnsHttp2.perSecond.toFixed(0)}/s, ${apnsHttp2.cpuMsPerNotification.toFixed(3)} ms CPU each ` +
            `(Redis: ${apnsHttp2.redis?.roundTripsPerNotification.toFixed(1)} round trips, ${apnsHttp2.redis?.cpuMsPerNotification.toFixed(3)} ms CPU each)`,
        );
      }
    }

    const figures: Figure[] = [];
    const against = (label: string, mailpush: PushSide, floor: PushSide, floorName: string): Figure[] => [
      {
        measure: `${label} notifications/s`,
        unit: '/s',
        mailpush: mailpush.perSecond,
        floor: floor.perSecond,
        floorName,
        ratio: mailpush.perSecond / floor.perSecond,
      },
      {
        measure: `${label} CPU per notification`,
        unit: 'ms',
        mailpush: mailpush.cpuMsPerNotification,
        floor: floor.cpuMsPerNotification,
        floorName,
        ratio: mailpush.cpuMsPerNotification / floor.cpuMsPerNotification,
      },
    ];
    const apns = results.get('apns');
    const fcm = results.get('fcm');
    assert.ok(apns && fcm);
    const apnsFloor = 'node:http2 client, same requests';
    figures.push(...against('APNS (node-apn)', apns.dispatcher, apns.floor, apnsFloor));
    if (apnsHttp2) figures.push(...against('APNS (APNS_CLIENT=http2)', apnsHttp2, apns.floor, apnsFloor));
    figures.push(...against('FCM', fcm.dispatcher, fcm.floor, 'node:https client, same requests'));
    return {
      row: 'push',
      title: `Push throughput: ${k} notifications (${o.users} users × ${o.devicesPerUser} devices × ${o.messagesPerUser} messages), concurrency ${o.concurrency}`,
      figures,
      details: {
        notifications: k,
        users: o.users,
        devicesPerUser: o.devicesPerUser,
        messagesPerUser: o.messagesPerUser,
        concurrency: o.concurrency,
        defaultConcurrency: DEFAULT_DISPATCH_CONCURRENCY,
        apns,
        apnsHttp2: apnsHttp2 && { dispatcher: apnsHttp2, floor: apns.floor },
        fcm,
      },
    };
  } finally {
    await dispatcher.proc.stop();
    await queue.close();
  }
}
