import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { QueueName } from '@mailpush/queue';
import { eventually } from '../harness';
import {
  redisSnapshot,
  redisWork,
  startRole,
  type BenchRole,
  type BenchStack,
  type SeededMailbox,
} from './bench-stack';
import { cpuMs, type ExistsTrace, type RedisCommandCounts, type RoleTrace } from './process-stats';
import { distribution, type Distribution, type Figure, type RowResult } from './bench-report';
import { IdleHolder } from './floors/idle-holder.client';
import { log } from './bench-progress';

export interface LatencyOptions {
  /** Messages per second, spread evenly. */
  rate: number;
  seconds: number;
  /** Mailboxes with an observer connection; messages go to random ones among them. */
  observed: number;
  /** Extra NODE_OPTIONS for the dispatcher (profiling). */
  nodeOptions?: string[];
  /** The worker watching the mailboxes (for its CPU and Redis commands). */
  worker: BenchRole;
}

/** Every subject carries this marker and a sequence number: the push is matched by its alert body. */
const MARKER = 'mpbench';
const SETTLE_TIMEOUT_MS = 30_000;
/** Dovecot announces a change ~0.5 s after it; a message this close behind another is a "follower". */
const FOLLOWER_WINDOW_MS = 1_000;

interface Sent {
  seq: number;
  user: string;
  deviceId: string;
  subject: string;
  deliveredAt: number;
  /** INBOX's message count once this message is in: the EXISTS that announces it. */
  count: number;
  /** Since the previous message delivered to the same mailbox (Infinity for the first). */
  sincePreviousMs: number;
}

/**
 * With every seeded mailbox watched by the worker: messages are stored into random observed
 * mailboxes (a file renamed into the Maildir's new/, as an MTA does), at a steady rate. Per
 * message: delivery → the `* n EXISTS` an observer IDLE on the same INBOX receives, and delivery
 * → the push request at the APNs fake (matched by the unique subject in the alert body).
 */
export async function latencyRow(stack: BenchStack, seeded: SeededMailbox[], o: LatencyOptions): Promise<RowResult> {
  const dovecot = stack.dovecot;
  assert.ok(dovecot);
  const targets = [...seeded].sort(() => Math.random() - 0.5).slice(0, Math.min(o.observed, seeded.length));
  const pushedAt = new Map<string, number>();
  const messageKeys = new Map<string, string>();
  stack.apns.onRequest((r) => {
    const payload = r.payload as { aps?: { alert?: { body?: unknown } }; messageKey?: unknown } | undefined;
    const body = payload?.aps?.alert?.body;
    if (r.status !== 200 || typeof body !== 'string' || !body.startsWith(MARKER)) return;
    pushedAt.set(body, r.receivedAt);
    if (typeof payload?.messageKey === 'string') messageKeys.set(body, payload.messageKey);
  });
  const seen = new Map<string, { count: number; at: number }[]>();
  const dispatcher = await startRole(stack, 'dispatcher', {}, o.nodeOptions);
  const observer = IdleHolder.start();
  try {
    observer.onExists((user, count, at) => {
      const list = seen.get(user) ?? [];
      list.push({ count, at });
      seen.set(user, list);
    });
    const opened = await observer.open(
      'observe',
      dovecot.host,
      dovecot.port,
      targets.map((t) => t.login),
    );
    assert.equal(opened.failed, 0, `observers: ${opened.failed} failed (${opened.firstError})`);
    const counts = new Map(targets.map((t) => [t.login.user, opened.exists[t.login.user] ?? 0]));
    const sent: Sent[] = [];
    const lastDelivery = new Map<string, number>();
    let seq = 0;
    const deliver = (target: SeededMailbox): Sent => {
      const subject = `${MARKER} ${++seq} ${randomBytes(4).toString('hex')}`;
      const { deliveredAt } = dovecot.deliverToMaildir(target.login.user, {
        from: 'Bench Sender <sender@example.com>',
        subject,
      });
      const count = (counts.get(target.login.user) ?? 0) + 1;
      counts.set(target.login.user, count);
      const previous = lastDelivery.get(target.login.user);
      lastDelivery.set(target.login.user, deliveredAt);
      return {
        seq,
        user: target.login.user,
        deviceId: target.deviceId,
        subject,
        deliveredAt,
        count,
        sincePreviousMs: previous === undefined ? Infinity : deliveredAt - previous,
      };
    };

    // Warm-up: the dispatcher's APNs connection and provider token, and every code path once.
    const warm = deliver(targets[0]!);
    await eventually(() => assert.ok(pushedAt.has(warm.subject), 'warm-up message not pushed'), {
      timeoutMs: SETTLE_TIMEOUT_MS,
    });

    const total = Math.max(1, Math.round(o.rate * o.seconds));
    log(
      `latency: ${total} messages at ${o.rate}/s into ${targets.length} observed of ${seeded.length} watched mailboxes`,
    );
    // This probe also empties the worker's trace: the next one holds the run's EXISTS alone.
    const sent0 = { worker: (await o.worker.sample()).redis, dispatcher: await dispatcher.redisCommands() };
    const redis0 = await redisSnapshot(stack.client);
    const cpu0 = { worker: cpuMs(o.worker.proc.pid), dispatcher: cpuMs(dispatcher.proc.pid) };
    const startUs = Number(process.hrtime.bigint() / 1000n);
    const startAt = Date.now() + 100;
    for (let i = 0; i < total; i++) {
      const wait = startAt + (i * 1000) / o.rate - Date.now();
      if (wait > 0) await delay(wait);
      sent.push(deliver(targets[Math.floor(Math.random() * targets.length)]!));
      if ((i + 1) % (o.rate * 10) === 0) log(`latency: ${i + 1}/${total} delivered, ${pushedAt.size - 1} pushed`);
    }
    const existsAt = (s: Sent) => seen.get(s.user)?.find((x) => x.count >= s.count)?.at;
    await eventually(
      () => {
        const missing = sent.filter((s) => !pushedAt.has(s.subject) || existsAt(s) === undefined).length;
        assert.equal(missing, 0, `${missing} messages not yet both announced and pushed`);
      },
      { timeoutMs: SETTLE_TIMEOUT_MS, intervalMs: 100 },
    ).catch(() => undefined);
    const runMs = Date.now() - startAt;
    const windowUs = [startUs, Number(process.hrtime.bigint() / 1000n)];
    const redis = redisWork(redis0, await redisSnapshot(stack.client));
    const workerSample = await o.worker.sample();
    const sent1 = { worker: workerSample.redis, dispatcher: await dispatcher.redisCommands() };
    const workerExists = workerExistsLookup(workerSample.trace);
    const perMessage = (a: RedisCommandCounts, b: RedisCommandCounts) => ({
      commands: (b.commands - a.commands) / sent.length,
      roundTrips: (b.standalone - a.standalone + b.pipelines - a.pipelines) / sent.length,
      byName: Object.fromEntries(
        Object.entries(b.byName)
          .map(([k, v]) => [k, (v - (a.byName[k] ?? 0)) / sent.length] as const)
          .filter(([, v]) => v > 0)
          .sort((x, y) => y[1] - x[1]),
      ),
    });
    const cpu = {
      workerMsPerMessage: (cpuMs(o.worker.proc.pid) - cpu0.worker) / sent.length,
      dispatcherMsPerMessage: (cpuMs(dispatcher.proc.pid) - cpu0.dispatcher) / sent.length,
    };

    const complete = sent.filter((s) => pushedAt.has(s.subject) && existsAt(s) !== undefined);
    const toExists = complete.map((s) => existsAt(s)! - s.deliveredAt);
    const toPush = complete.map((s) => pushedAt.get(s.subject)! - s.deliveredAt);
    const gap = complete.map((s) => pushedAt.get(s.subject)! - existsAt(s)!);
    const d = { exists: distribution(toExists), push: distribution(toPush), gap: distribution(gap) };
    const gapOf = (s: Sent) => pushedAt.get(s.subject)! - existsAt(s)!;
    const followers = complete.filter((s) => s.sincePreviousMs < FOLLOWER_WINDOW_MS);
    const byFollowing = {
      alone: distribution(complete.filter((s) => s.sincePreviousMs >= FOLLOWER_WINDOW_MS).map(gapOf)),
      followingAnother: distribution(followers.map(gapOf)),
    };
    const stages = await stageBreakdown(
      stack,
      complete.map((s) => ({
        existsAt: existsAt(s)!,
        worker: workerExists(s.user, s.count),
        pushedAt: pushedAt.get(s.subject)!,
        messageKey: messageKeys.get(s.subject),
        deviceId: s.deviceId,
      })),
    );
    const notPushed = sent.filter((s) => !pushedAt.has(s.subject)).length;
    const notAnnounced = sent.filter((s) => existsAt(s) === undefined).length;
    for (const [stage, dist] of Object.entries(stages))
      log(
        `latency:   ${stage.padEnd(42)} p50 ${dist.p50} ms, p95 ${dist.p95} ms, p99 ${dist.p99} ms, max ${dist.max} ms`,
      );
    const loop = workerSample.trace.eventLoopDelayMs;
    log(
      `latency:   worker event-loop delay p50 ${loop.p50.toFixed(1)} ms, p99 ${loop.p99.toFixed(1)} ms, ` +
        `max ${loop.max.toFixed(1)} ms`,
    );
    log(
      `latency:   alone in its mailbox for 1 s: p99 ${byFollowing.alone.p99} ms (n=${byFollowing.alone.n}); ` +
        `< 1 s after another: p99 ${byFollowing.followingAnother.p99} ms (n=${byFollowing.followingAnother.n})`,
    );
    log(
      `latency: push − EXISTS p50 ${d.gap.p50} ms, p99 ${d.gap.p99} ms, max ${d.gap.max} ms; ` +
        `${notPushed} not pushed, ${notAnnounced} not announced to the observer`,
    );
    const figures: Figure[] = [];
    for (const p of ['p50', 'p95', 'p99', 'max'] as const) {
      figures.push({
        measure: `delivery → push ${p} (floor: → server EXISTS)`,
        unit: 'ms',
        mailpush: d.push[p],
        floor: d.exists[p],
        floorName: 'Dovecot EXISTS at a bare IDLE observer',
        ratio: d.push[p] / d.exists[p],
      });
    }
    for (const p of ['p50', 'p95', 'p99', 'max'] as const) {
      figures.push({ measure: `push − server EXISTS ${p}`, unit: 'ms', mailpush: d.gap[p] });
    }
    return {
      row: 'latency',
      title: `Latency with ${seeded.length} mailboxes watched, ${o.rate} messages/s`,
      figures,
      details: {
        /** CLOCK_MONOTONIC µs of the run (the clock of a --cpu-prof profile's timestamps). */
        windowUs,
        watched: seeded.length,
        observed: targets.length,
        rate: o.rate,
        messages: sent.length,
        notPushed,
        notAnnounced,
        deliveryToExistsMs: d.exists,
        deliveryToPushMs: d.push,
        pushMinusExistsMs: d.gap,
        pushMinusExistsByStageMs: stages,
        workerEventLoopDelayMs: workerSample.trace.eventLoopDelayMs,
        // A message delivered < 1 s after another to the same mailbox can land while the worker is
        // out of IDLE fetching the first; the server then announces it only after re-entering IDLE.
        pushMinusExistsByFollowingMs: byFollowing,
        // Everything in the window: the worker's lease renewals and rescans of all watched accounts too.
        cpuPerMessage: cpu,
        redis: {
          commandsPerSecond: (redis.commands * 1000) / runMs,
          commandsPerMessage: redis.commands / sent.length,
          cpuMsPerMessage: redis.cpuMs / sent.length,
          sentPerMessage: {
            worker: perMessage(sent0.worker, sent1.worker),
            dispatcher: perMessage(sent0.dispatcher, sent1.dispatcher),
          },
          total: redis,
        },
      },
    };
  } finally {
    await observer.close();
    await dispatcher.proc.stop();
  }
}

/**
 * When each job of a queue was added and taken, from the queue's event stream (jobs themselves are
 * removed once done, to keep no content at rest): the stream ids are Redis's clock in ms, the
 * machine's clock too here.
 */
async function jobTimes(
  client: BenchStack['client'],
  queue: Queue,
): Promise<Map<string, { addedAt?: number; activeAt?: number }>> {
  const times = new Map<string, { addedAt?: number; activeAt?: number }>();
  let from = '-';
  for (;;) {
    const entries = await client.xrange(queue.keys.events, from, '+', 'COUNT', 5_000);
    for (const [id, fields] of entries) {
      const field = (name: string) => fields[fields.indexOf(name) + 1];
      const event = field('event');
      const jobId = field('jobId');
      if (jobId === undefined || (event !== 'waiting' && event !== 'active')) continue;
      const at = Number(id.split('-')[0]);
      const t = times.get(jobId) ?? {};
      if (event === 'waiting') t.addedAt ??= at;
      else t.activeAt ??= at;
      times.set(jobId, t);
    }
    if (entries.length < 5_000) return times;
    from = `(${entries[entries.length - 1]![0]}`;
  }
}

/** The k-th message of a mailbox is announced to the worker by its connection's first EXISTS of at least k. */
function workerExistsLookup(trace: RoleTrace): (user: string, count: number) => ExistsTrace | undefined {
  const byUser = new Map<string, ExistsTrace[]>();
  for (const t of trace.exists) {
    const list = byUser.get(t.user) ?? [];
    list.push(t);
    byUser.set(t.user, list);
  }
  return (user, count) => byUser.get(user)?.find((t) => t.count >= count);
}

/** When the worker's connection ended its IDLE and ran the FETCH and STATUS that follow an EXISTS. */
function workerSteps(
  t: ExistsTrace,
): { idleDoneAt: number; fetch: [number, number]; status?: [number, number] } | undefined {
  const idle = t.commands.find((c) => c.command === 'IDLE' && c.startAt < t.at);
  const fetch = t.commands.find((c) => c.command === 'FETCH' && c.endAt > t.at);
  if (!idle || !fetch) return undefined;
  const status = t.commands.find((c) => c.command === 'STATUS' && c.startAt >= fetch.endAt);
  return {
    idleDoneAt: idle.endAt,
    fetch: [fetch.startAt, fetch.endAt],
    ...(status ? { status: [status.startAt, status.endAt] as [number, number] } : {}),
  };
}

const round1 = (ms: number) => Math.round(ms * 10) / 10;

/**
 * Where push − EXISTS goes: the observer's EXISTS → the worker connection's own (Dovecot runs one
 * process per connection: each is told on its own), from the worker's trace; the worker's EXISTS →
 * its event on `mail-events`, split into its steps (the cursor read and IDLE's end, the FETCH, the
 * badge's STATUS, the enqueue); then, from the queues' event streams: waiting for the fan-out; the
 * fan-out until the message's delivery job exists; waiting for a delivery slot; the delivery until
 * the fake has it.
 */
async function stageBreakdown(
  stack: BenchStack,
  messages: {
    existsAt: number;
    worker: ExistsTrace | undefined;
    pushedAt: number;
    messageKey: string | undefined;
    deviceId: string;
  }[],
): Promise<Record<string, Distribution>> {
  const prefix = stack.env.MAILPUSH_QUEUE_PREFIX ?? 'mailpush';
  const events = new Queue(QueueName.MailEvents, { connection: stack.client, prefix });
  const deliveries = new Queue(QueueName.Deliveries, { connection: stack.client, prefix });
  const stages: Record<string, number[]> = {
    'observer EXISTS → event queued': [],
    'dovecot: observer EXISTS → worker EXISTS': [],
    'worker: EXISTS → event queued': [],
    'worker:   EXISTS → FETCH called (cursor read)': [],
    'worker:   FETCH called → IDLE done (DONE)': [],
    'worker:   IDLE done → FETCH answered': [],
    'worker:   FETCH → STATUS sent': [],
    'worker:   STATUS (badge)': [],
    'worker:   last reply → event queued': [],
    'queue: event waits for fan-out': [],
    'fan-out: → delivery queued': [],
    'queue: delivery waits for a slot': [],
    'delivery: → request at the fake': [],
  };
  try {
    const eventTimes = await jobTimes(stack.client, events);
    // A delivery job's id starts with its message key (one job per message and batch of devices).
    const deliveryTimes = new Map<string, { addedAt?: number; activeAt?: number }>();
    for (const [jobId, t] of await jobTimes(stack.client, deliveries)) {
      const key = jobId.slice(0, jobId.lastIndexOf('.'));
      if (!deliveryTimes.has(key)) deliveryTimes.set(key, t);
    }
    for (const m of messages) {
      if (m.messageKey === undefined) continue;
      const event = eventTimes.get(m.messageKey);
      const delivery = deliveryTimes.get(m.messageKey);
      if (!event?.addedAt || !event.activeAt || !delivery?.addedAt || !delivery.activeAt) continue;
      stages['observer EXISTS → event queued']!.push(event.addedAt - m.existsAt);
      if (m.worker) {
        // The stream ids are whole ms: the worker's own times are rounded to match.
        const workerAt = Math.floor(m.worker.at);
        stages['dovecot: observer EXISTS → worker EXISTS']!.push(workerAt - m.existsAt);
        stages['worker: EXISTS → event queued']!.push(event.addedAt - workerAt);
        const steps = workerSteps(m.worker);
        if (steps) {
          // imapflow ends the IDLE inside the FETCH's call: DONE, IDLE's OK, then the FETCH.
          stages['worker:   EXISTS → FETCH called (cursor read)']!.push(round1(steps.fetch[0] - m.worker.at));
          stages['worker:   FETCH called → IDLE done (DONE)']!.push(round1(steps.idleDoneAt - steps.fetch[0]));
          stages['worker:   IDLE done → FETCH answered']!.push(round1(steps.fetch[1] - steps.idleDoneAt));
          const last = steps.status?.[1] ?? steps.fetch[1];
          if (steps.status) {
            stages['worker:   FETCH → STATUS sent']!.push(round1(steps.status[0] - steps.fetch[1]));
            stages['worker:   STATUS (badge)']!.push(round1(steps.status[1] - steps.status[0]));
          }
          stages['worker:   last reply → event queued']!.push(round1(event.addedAt - Math.floor(last)));
        }
      }
      stages['queue: event waits for fan-out']!.push(event.activeAt - event.addedAt);
      stages['fan-out: → delivery queued']!.push(delivery.addedAt - event.activeAt);
      stages['queue: delivery waits for a slot']!.push(delivery.activeAt - delivery.addedAt);
      stages['delivery: → request at the fake']!.push(m.pushedAt - delivery.activeAt);
    }
  } finally {
    await Promise.all([events.close(), deliveries.close()]);
  }
  return Object.fromEntries(Object.entries(stages).map(([k, v]) => [k, distribution(v)]));
}
