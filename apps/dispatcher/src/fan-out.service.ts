import { Injectable } from '@nestjs/common';
import { BurstBudget, ReconnectLinks, UserEventsPublisher } from '@mailpush/delivery';
import { metrics } from '@mailpush/metrics';
import {
  JobName,
  QueueName,
  QueueRegistry,
  burstSummaryJobId,
  dedupJobOptions,
  deliveryBatchJobId,
  reauthDeliveryJobId,
  type JobProducer,
  type JobSpec,
  type MailEvent,
  type ReauthEvent,
} from '@mailpush/queue';
import { AccountRepository, DeviceRepository, UserRepository } from '@mailpush/store';

export type FanOutOutcome =
  | { status: 'fanned_out'; devices: number; individually: number; inSummary: number }
  | { status: 'no_devices' }
  | { status: 'skipped'; reason: string };

/** The summary job runs this long after its window closes, so the last admission has landed. */
const SUMMARY_GRACE_MS = 1000;
/**
 * Devices per delivery job. A queue job costs dozens of Redis commands whatever it carries: one
 * per device kept the dispatcher at a quarter of a bare HTTP/2 client's rate.
 */
export const DELIVERY_BATCH_SIZE = 100;

/**
 * One new-mail event becomes: one event on the user's live stream, delivery jobs for the devices
 * within their burst budget (sorted by id, in batches of DELIVERY_BATCH_SIZE, each job's id a
 * digest of its devices, so a replayed event adds nothing), and past a device's budget a share of
 * one delayed summary job (id = device + window, added once).
 */
@Injectable()
export class FanOutService {
  private readonly deliveries: JobProducer<QueueName.Deliveries>;

  constructor(
    queues: QueueRegistry,
    private readonly devices: DeviceRepository,
    private readonly burst: BurstBudget,
    private readonly userEvents: UserEventsPublisher,
    private readonly accounts: AccountRepository,
    private readonly links: ReconnectLinks,
    private readonly users: UserRepository,
  ) {
    this.deliveries = queues.producer(QueueName.Deliveries);
  }

  async fanOut(event: MailEvent, now = Date.now()): Promise<FanOutOutcome> {
    // Enqueued by a watcher in the moment before its user was erased: nothing of it goes out.
    if (!(await this.users.find(event.userId))) return { status: 'skipped', reason: 'user_gone' };
    // Ids only: each delivery reads (and unseals) its device when it sends, once.
    const ids = (await this.devices.idsForUser(event.userId)).sort();
    const decisions = await this.burst.admitAll(ids, event.messageKey, event.accountId, event.summary?.count ?? 1, now);
    const individually: string[] = [];
    const jobs = new Map<string, JobSpec<QueueName.Deliveries>>();
    ids.forEach((deviceId, i) => {
      const decision = decisions[i];
      if (!decision || decision.notify === 'individually') {
        individually.push(deviceId);
        return;
      }
      metrics.burstSuppressed.inc();
      const jobId = burstSummaryJobId(deviceId, decision.windowStart);
      jobs.set(jobId, {
        name: JobName.DeliverBurstSummary,
        data: { userId: event.userId, deviceId, windowStart: decision.windowStart },
        opts: { ...dedupJobOptions(jobId), delay: Math.max(0, decision.summaryAt - now) + SUMMARY_GRACE_MS },
      });
    });
    for (let i = 0; i < individually.length; i += DELIVERY_BATCH_SIZE) {
      const deviceIds = individually.slice(i, i + DELIVERY_BATCH_SIZE);
      const jobId = deliveryBatchJobId(event, deviceIds);
      jobs.set(jobId, { name: JobName.DeliverBatch, data: { event, deviceIds }, opts: dedupJobOptions(jobId) });
    }
    await this.deliveries.addBulk([...jobs.values()]);
    await this.userEvents.publish(event);
    if (ids.length === 0) return { status: 'no_devices' };
    return {
      status: 'fanned_out',
      devices: ids.length,
      individually: individually.length,
      inSummary: ids.length - individually.length,
    };
  }

  /**
   * "Reconnect <email>": one delivery per device (id = account + credentials version + device, so
   * however often the refusal is seen, each device is told once), outside the burst budget, and
   * one event on the live stream. Skipped when the account was re-armed or deleted meanwhile.
   */
  async fanOutReauth(event: ReauthEvent): Promise<FanOutOutcome> {
    const account = await this.accounts.find(event.accountId);
    if (!account || account.userId !== event.userId) return { status: 'skipped', reason: 'account_gone' };
    if (account.credentialsVersion !== event.credentialsVersion) return { status: 'skipped', reason: 'rearmed' };
    const devices = await this.devices.listForUser(event.userId);
    if (devices.length > 0) {
      await this.deliveries.addBulk(
        devices.map((device) => {
          const jobId = reauthDeliveryJobId(event, device.id);
          return { name: JobName.DeliverReauth, data: { event, deviceId: device.id }, opts: dedupJobOptions(jobId) };
        }),
      );
    }
    await this.userEvents.publishReauth(event, account.email, await this.links.create(account));
    if (devices.length === 0) return { status: 'no_devices' };
    return { status: 'fanned_out', devices: devices.length, individually: devices.length, inSummary: 0 };
  }
}
