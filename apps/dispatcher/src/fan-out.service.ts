import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { JobsOptions } from 'bullmq';
import { APP_CONFIG, type AppConfig } from '../../../libs/config';
import {
  BurstBudget,
  UserEventsPublisher,
  createDeliveriesQueue,
  type DeliveriesJobData,
  type DeliveriesJobName,
  type DeliveriesQueue,
} from '../../../libs/delivery';
import { metrics } from '../../../libs/metrics';
import { JobName, burstSummaryJobId, dedupJobOptions, deliveryJobId, type MailEvent } from '../../../libs/queue';
import { DeviceRepository } from '../../../libs/store';

export type FanOutOutcome =
  { status: 'fanned_out'; devices: number; individually: number; inSummary: number } | { status: 'no_devices' };

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
  ) {
    this.deliveries = createDeliveriesQueue(config);
  }

  async fanOut(event: MailEvent, now = Date.now()): Promise<FanOutOutcome> {
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

  async onApplicationShutdown(): Promise<void> {
    await this.deliveries.close();
  }
}
