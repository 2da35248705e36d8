import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { JobsOptions } from 'bullmq';
import { APP_CONFIG, type AppConfig } from '@mailpush/config';
import {
  BurstBudget,
  ReconnectLinks,
  UserEventsPublisher,
  createDeliveriesQueue,
  type DeliveriesJobData,
  type DeliveriesJobName,
  type DeliveriesQueue,
} from '@mailpush/delivery';
import { metrics } from '@mailpush/metrics';
import {
  JobName,
  burstSummaryJobId,
  dedupJobOptions,
  deliveryJobId,
  reauthDeliveryJobId,
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
 * One new-mail event becomes: one event on the user's live stream, and per device either one
 * delivery job (id = message key + device, so a replayed event adds nothing) or, past the
 * device's burst budget, a share of one delayed summary job (id = device + window, added once).
 */
@Injectable()
export class FanOutService implements OnApplicationShutdown {
  private readonly deliveries: DeliveriesQueue;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly devices: DeviceRepository,
    private readonly burst: BurstBudget,
    private readonly userEvents: UserEventsPublisher,
    private readonly accounts: AccountRepository,
    private readonly links: ReconnectLinks,
    private readonly users: UserRepository,
  ) {
    this.deliveries = createDeliveriesQueue(config);
  }

  async fanOut(event: MailEvent, now = Date.now()): Promise<FanOutOutcome> {
    // Enqueued by a watcher in the moment before its user was erased: nothing of it goes out.
    if (!(await this.users.find(event.userId))) return { status: 'skipped', reason: 'user_gone' };
    const devices = await this.devices.listForUser(event.userId);
    const jobs = new Map<string, { name: DeliveriesJobName; data: DeliveriesJobData; opts: JobsOptions }>();
    let individually = 0;
    for (const device of devices) {
      const decision = await this.burst.admit(
        device.id,
        event.messageKey,
        event.accountId,
        event.summary?.count ?? 1,
        now,
      );
      if (decision.notify === 'individually') {
        individually++;
        const jobId = deliveryJobId(event, device.id);
        jobs.set(jobId, { name: JobName.Deliver, data: { event, deviceId: device.id }, opts: dedupJobOptions(jobId) });
      } else {
        metrics.burstSuppressed.inc();
        const jobId = burstSummaryJobId(device.id, decision.windowStart);
        jobs.set(jobId, {
          name: JobName.DeliverBurstSummary,
          data: { userId: event.userId, deviceId: device.id, windowStart: decision.windowStart },
          opts: { ...dedupJobOptions(jobId), delay: Math.max(0, decision.summaryAt - now) + SUMMARY_GRACE_MS },
        });
      }
    }
    if (jobs.size > 0) await this.deliveries.addBulk([...jobs.values()]);
    await this.userEvents.publish(event);
    if (devices.length === 0) return { status: 'no_devices' };
    return { status: 'fanned_out', devices: devices.length, individually, inSummary: devices.length - individually };
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

  async onApplicationShutdown(): Promise<void> {
    await this.deliveries.close();
  }
}
