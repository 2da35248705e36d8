import { Injectable } from '@nestjs/common';
import type { Job } from 'bullmq';
import { BurstBudget, ReconnectLinks, type DeliveriesJobData, type DeliveriesJobName } from '../../../libs/delivery';
import { createLogger } from '../../../libs/logging';
import { metrics } from '../../../libs/metrics';
import {
  buildBurstSummaryNotification,
  buildMailNotification,
  buildReauthNotification,
} from '../../../libs/notifications';
import type { PushNotification } from '../../../libs/push';
import { JobName, type BurstSummaryJob, type DeliveryJob, type ReauthDeliveryJob } from '../../../libs/queue';
import { AccountRepository, DeviceRepository, type Device } from '../../../libs/store';
import { PushTransports } from './push-transports';

const log = createLogger('dispatcher');

export type DeliveryOutcome = {
  status: 'delivered' | 'pruned' | 'rejected' | 'skipped' | 'transport_disabled';
  code?: string;
};

/**
 * Sends one delivery job. Expected conditions (device gone, token dead, push refused) return an
 * outcome; transient and rate-limited failures throw so the queue retries with backoff.
 */
@Injectable()
export class DeliveryHandler {
  constructor(
    private readonly devices: DeviceRepository,
    private readonly transports: PushTransports,
    private readonly burst: BurstBudget,
    private readonly accounts: AccountRepository,
    private readonly links: ReconnectLinks,
  ) {}

  async handle(job: Job<DeliveriesJobData, unknown, DeliveriesJobName>): Promise<DeliveryOutcome> {
    switch (job.name) {
      case JobName.DeliverBurstSummary:
        return this.deliverSummary(job.data as BurstSummaryJob);
      case JobName.DeliverReauth:
        return this.deliverReauth(job.data as ReauthDeliveryJob);
      default:
        return this.deliverMessage(job.data as DeliveryJob);
    }
  }

  /** The link is made now, not at fan-out: no usable token ever sits in a queue job. */
  private async deliverReauth({ event, deviceId }: ReauthDeliveryJob): Promise<DeliveryOutcome> {
    const device = await this.devices.find(deviceId);
    if (!device || device.userId !== event.userId) return { status: 'skipped' };
    const account = await this.accounts.find(event.accountId);
    if (!account || account.userId !== event.userId) return { status: 'skipped', code: 'account_gone' };
    if (account.credentialsVersion !== event.credentialsVersion) return { status: 'skipped', code: 'rearmed' };
    const url = await this.links.create(account);
    const n = buildReauthNotification(
      {
        accountId: account.id,
        email: account.email,
        credentialsVersion: event.credentialsVersion,
        ...(url ? { url } : {}),
      },
      device.privacy,
    );
    return this.send(device, n, { messageKey: n.collapseKey });
  }

  private async deliverMessage({ event, deviceId }: DeliveryJob): Promise<DeliveryOutcome> {
    const device = await this.devices.find(deviceId);
    if (!device || device.userId !== event.userId) return { status: 'skipped' };
    return this.send(device, buildMailNotification(event, device.privacy), {
      messageKey: event.messageKey,
      since: event.detectedAt,
    });
  }

  private async deliverSummary({ userId, deviceId, windowStart }: BurstSummaryJob): Promise<DeliveryOutcome> {
    const device = await this.devices.find(deviceId);
    if (!device || device.userId !== userId) return { status: 'skipped' };
    const summary = await this.burst.summary(deviceId, windowStart);
    if (!summary) return { status: 'skipped', code: 'nothing_held_back' };
    const n = buildBurstSummaryNotification({ deviceId, windowStart, ...summary }, device.privacy);
    return this.send(device, n, { messageKey: n.collapseKey });
  }

  private async send(
    device: Device,
    n: PushNotification,
    context: { messageKey: string; since?: number },
  ): Promise<DeliveryOutcome> {
    let result;
    try {
      result = await this.transports.send(device, n);
    } catch (err) {
      metrics.deliveries.inc({ platform: device.platform, outcome: 'retry' });
      throw err;
    }
    metrics.deliveries.inc({ platform: device.platform, outcome: result.status });
    switch (result.status) {
      case 'delivered': {
        const latencyMs = context.since === undefined ? undefined : Date.now() - context.since;
        if (latencyMs !== undefined) metrics.deliveryLatency.observe({ platform: device.platform }, latencyMs / 1000);
        log.debug('delivered', {
          messageKey: context.messageKey,
          deviceId: device.id,
          platform: device.platform,
          latencyMs,
        });
        return { status: 'delivered' };
      }
      case 'dead_token': {
        const pruned = await this.devices.pruneIfToken(device.id, device.token);
        log.info('push service says the token is dead; device removed', {
          deviceId: device.id,
          code: result.code,
          pruned,
        });
        return { status: 'pruned', code: result.code };
      }
      case 'rejected':
        log.warn('push service rejected the notification', {
          deviceId: device.id,
          platform: device.platform,
          code: result.code,
        });
        return { status: 'rejected', code: result.code };
      case 'transport_disabled':
        return { status: 'transport_disabled' };
    }
  }
}
