import { type BeforeApplicationShutdown, Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Queue, UnrecoverableError, Worker, type Job, type JobsOptions, type WorkerOptions } from 'bullmq';
import { APP_CONFIG, type AppConfig } from '@mailpush/config';
import { createLogger } from '@mailpush/logging';
import type { Redis } from '@mailpush/store';
import { createBullConnection } from './bullmq-connection';
import { jobDefaults } from './job-defaults';
import { jobsOf, parseJobData, type JobPayloads, type JobsOf } from './job-payloads';
import { type JobName, QueueName } from './queue-names';

const log = createLogger('queue');

/** One job as a producer adds it: the name decides the payload's type. */
export type JobSpec<Q extends QueueName> = {
  [J in JobsOf<Q>]: { name: J; data: JobPayloads[J]; opts?: JobsOptions };
}[JobsOf<Q>];

/** One handler per job name of a queue, each given its job's payload already validated. */
export type JobHandlers<Q extends QueueName, R> = {
  [J in JobsOf<Q>]: (data: JobPayloads[J], job: Job) => Promise<R>;
};

/** A queue as BullMQ sees it: any of the project's payloads; JobProducer pairs names with payloads. */
export type AnyJobQueue = Queue<JobPayloads[JobName], unknown, string>;

/** Job data that does not match its job's schema: retrying cannot fix it. */
export class InvalidJobDataError extends UnrecoverableError {
  override name = 'InvalidJobDataError';
}

/** A queue consumed without a handler for one of its jobs, or a job handled twice: refused at boot. */
export class JobHandlerError extends Error {
  override name = 'JobHandlerError';
}

/**
 * Refuses a consumer that leaves a job of its queue unhandled, handles a job of another queue, or
 * handles a job that another consumer of this process already handles.
 */
export function checkHandlers(queue: QueueName, handled: readonly string[], alreadyHandled: ReadonlySet<string>): void {
  const expected: readonly string[] = jobsOf(queue);
  const missing = expected.filter((name) => !handled.includes(name));
  const foreign = handled.filter((name) => !expected.includes(name));
  const twice = handled.filter((name) => alreadyHandled.has(name));
  const problems = [
    ...(missing.length ? [`no handler for ${missing.join(', ')}`] : []),
    ...(foreign.length ? [`handlers for jobs of other queues: ${foreign.join(', ')}`] : []),
    ...(twice.length ? [`a second handler for ${twice.join(', ')}`] : []),
  ];
  if (problems.length > 0) throw new JobHandlerError(`queue "${queue}": ${problems.join('; ')}`);
}

function isJobOf<Q extends QueueName>(queue: Q, name: string): name is JobsOf<Q> {
  return (jobsOf(queue) as readonly string[]).includes(name);
}

/** Validates a job's payload against its name's schema and runs its handler. */
export async function routeJob<Q extends QueueName, R>(queue: Q, handlers: JobHandlers<Q, R>, job: Job): Promise<R> {
  const name = job.name;
  if (!isJobOf(queue, name)) throw new InvalidJobDataError(`queue "${queue}" has no job named "${name}"`);
  return runHandler(handlers, name, job);
}

function runHandler<Q extends QueueName, J extends JobsOf<Q>, R>(
  handlers: JobHandlers<Q, R>,
  name: J,
  job: Job,
): Promise<R> {
  let data: JobPayloads[J];
  try {
    data = parseJobData(name, job.data);
  } catch {
    // The schema's report may quote the payload (sender, subject): name the job only.
    throw new InvalidJobDataError(`job "${name}" (${job.id ?? 'no id'}) carries data that does not match its schema`);
  }
  const handler: (data: JobPayloads[J], job: Job) => Promise<R> = handlers[name];
  return handler(data, job);
}

/** What a producer may add to one queue: typed names and payloads, the queue's defaults applied. */
export class JobProducer<Q extends QueueName> {
  constructor(readonly queue: AnyJobQueue) {}

  async add<J extends JobsOf<Q>>(name: J, data: JobPayloads[J], opts?: JobsOptions): Promise<void> {
    await this.queue.add(name, data, opts);
  }

  /** One round trip for all of them. */
  async addBulk(jobs: readonly JobSpec<Q>[]): Promise<void> {
    if (jobs.length === 0) return;
    await this.queue.addBulk(jobs.map((j) => ({ name: j.name, data: j.data, ...(j.opts ? { opts: j.opts } : {}) })));
  }
}

export type ConsumerOptions = Pick<WorkerOptions, 'concurrency' | 'settings'>;

/**
 * The one place queues and workers are made: every queue of a process shares one connection,
 * every worker has its own (BullMQ blocks on it); each gets the queue prefix, its queue's job
 * defaults and an `error` listener (an unhandled `error` event would end the process). Workers
 * close before the rest of the application (active jobs finish), queues and connections after.
 */
@Injectable()
export class QueueRegistry implements BeforeApplicationShutdown, OnApplicationShutdown {
  private connection: Redis | undefined;
  private readonly queues = new Map<QueueName, AnyJobQueue>();
  private readonly workers: Worker[] = [];
  private readonly workerConnections: Redis[] = [];
  private readonly handled = new Set<string>();

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  producer<Q extends QueueName>(name: Q): JobProducer<Q> {
    return new JobProducer<Q>(this.queue(name));
  }

  /** Every queue, for views and maintenance that read or remove jobs whatever their name. */
  all(): AnyJobQueue[] {
    return Object.values(QueueName).map((name) => this.queue(name));
  }

  /**
   * Starts consuming `name`. Throws (at boot) unless `handlers` covers exactly the queue's jobs and
   * none of them already has a consumer in this process.
   */
  consume<Q extends QueueName, R>(name: Q, handlers: JobHandlers<Q, R>, options: ConsumerOptions = {}): Worker {
    const names = Object.keys(handlers);
    checkHandlers(name, names, this.handled);
    for (const job of names) this.handled.add(job);
    const connection = this.watched(createBullConnection(this.config.redis), `worker:${name}`);
    this.workerConnections.push(connection);
    const worker = new Worker(name, (job: Job) => routeJob(name, handlers, job), {
      ...options,
      connection,
      prefix: this.config.queuePrefix,
    });
    worker.on('error', (err) => log.warn('queue worker error', { queue: name, err }));
    this.workers.push(worker);
    return worker;
  }

  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    const connections = [...this.workerConnections, ...(this.connection ? [this.connection] : [])];
    await Promise.all(connections.map((c) => c.quit().catch(() => c.disconnect())));
  }

  private queue(name: QueueName): AnyJobQueue {
    const existing = this.queues.get(name);
    if (existing) return existing;
    const queue: AnyJobQueue = new Queue(name, {
      connection: this.sharedConnection(),
      prefix: this.config.queuePrefix,
      defaultJobOptions: jobDefaults(name, this.config),
    });
    queue.on('error', (err) => log.warn('queue error', { queue: name, err }));
    this.queues.set(name, queue);
    return queue;
  }

  private sharedConnection(): Redis {
    this.connection ??= this.watched(createBullConnection(this.config.redis), 'queues');
    return this.connection;
  }

  private watched(connection: Redis, use: string): Redis {
    connection.on('error', (err: unknown) => log.warn('queue connection error', { use, err }));
    return connection;
  }
}
