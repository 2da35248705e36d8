import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@mailpush/config';
import { BurstBudget, DeliveryMarks, ReconnectLinks } from '@mailpush/delivery';
import { createLogger } from '@mailpush/logging';
import { BoundedLabel, metrics } from '@mailpush/metrics';
import { buildBurstSummaryNotification, buildMailNotification, buildReauthNotification } from '@mailpush/notifications';
import { InFlightLimiter, PushDeliveryError, type PushNotification } from '@mailpush/push';
import type { BurstSummaryJob, DeliveryBatchJob, MailEvent, ReauthDeliveryJob } from '@mailpush/queue';
import { AccountRepository, DeviceRepository, type Device } from '@mailpush/store';
import { PushTransports } from './push-transports';

const log = createLogger('dispatcher');

/** Mail that reached INBOX longer ago than this was moved or imported there, not delivered now. */
const ARRIVAL_HORIZON_MS = 24 * 3600_000;
const failureReasons = new BoundedLabel();

export type DeliveryOutcome = {
  status: 'delivered' | 'pruned' | 'rejected' | 'skipped' | 'transport_disabled';
  code?: string;
};

/** A batch's devices by outcome; those already settled by an earlier run are not counted again. */
export type BatchOutcome = { status: 'batch'; outcomes: Partial<Record<DeliveryOutcome['status'], number>> };

/**
 * Some devices of a batch failed in a way a retry may fix. The job is retried (only those
 * devices: the others are settled) after the longest Retry-After any of them asked for.
 */
export class BatchDeliveryError extends Error {
  override name = 'BatchDeliveryError';
  readonly retryAfterMs: number | undefined;

  constructor(readonly failures: ReadonlyMap<string, Error>) {
    super(
      `${failures.size} device(s) of the batch failed: ${[...new Set([...failures.values()].map(describe))].join(', ')}`,
    );
    const waits = [...failures.values()].map((e) => (e instanceof PushDeliveryError ? e.retryAfterMs : undefined));
    const longest = Math.max(0, ...waits.filter((w): w is number => typeof w === 'number'));
    this.retryAfterMs = longest > 0 ? longest : undefined;
  }
}

function describe(err: Error): string {
  return err instanceof PushDeliveryError ? err.classified.code : err.name;
}

/**
 * Sends delivery jobs. Expected conditions (device gone, token dead, push refused) return an
 * outcome; transient and rate-limited failures throw so the queue retries with backoff.
 */
@Injectable()
export class DeliveryHandler {
  /**
   * Push requests in flight across all jobs: MAILPUSH_DISPATCH_CONCURRENCY, as when each job was
   * one device (a batch must not open a connection per device at once). Held for the request
   * only: a device's read and its outcome's writes do not take a slot.
   */
  private readonly inFlight: InFlightLimiter;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly devices: DeviceRepository,
    private readonly transports: PushTransports,
    private readonly burst: BurstBudget,
    private readonly accounts: AccountRepository,
    private readonly links: ReconnectLinks,
    private readonly marks: DeliveryMarks,
  ) {
    this.inFlight = new InFlightLimiter(config.dispatchConcurrency);
  }

  /**
   * Each device of the batch at most once, whichever run of the job (or of an overlapping job)
   * reaches it: claimed before its send, settled with its outcome, released when the send failed.
   */
  async deliverBatch({ event, deviceIds }: DeliveryBatchJob, jobId: string): Promise<BatchOutcome> {
    const mine = await this.marks.claim(event.messageKey, deviceIds, jobId);
    const failures = new Map<string, Error>();
    const outcomes: BatchOutcome['outcomes'] = {};
    await Promise.all(
      mine.map(async (deviceId) => {
        let outcome: DeliveryOutcome;
        try {
          outcome = await this.deliverMessage(event, deviceId);
        } catch (err) {
          failures.set(deviceId, err instanceof Error ? err : new Error(String(err)));
          // Not releasing (Redis trouble) is caught up by the job's last failure (see DispatchConsumers).
          await this.marks.release(event.messageKey, deviceId).catch(() => undefined);
          return;
        }
        await this.marks.settle(event.messageKey, deviceId, outcome.status);
        outcomes[outcome.status] = (outcomes[outcome.status] ?? 0) + 1;
      }),
    );
    if (failures.size > 0) throw new BatchDeliveryError(failures);
    return { status: 'batch', outcomes };
  }

  /** The link is made now, not at fan-out: no usable token ever sits in a queue job. */
  async deliverReauth({ event, deviceId }: ReauthDeliveryJob): Promise<DeliveryOutcome> {
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

  private async deliverMessage(event: MailEvent, deviceId: string): Promise<DeliveryOutcome> {
    const device = await this.devices.find(deviceId);
    if (!device || device.userId !== event.userId) return { status: 'skipped' };
    return this.send(device, buildMailNotification(event, device.privacy), {
      messageKey: event.messageKey,
      since: event.detectedAt,
      ...(event.arrivedAt !== undefined ? { arrivedAt: event.arrivedAt } : {}),
    });
  }

  async deliverSummary({ userId, deviceId, windowStart }: BurstSummaryJob): Promise<DeliveryOutcome> {
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
    context: { messageKey: string; since?: number; arrivedAt?: number },
  ): Promise<DeliveryOutcome> {
    let result;
    try {
      result = await this.inFlight.run(() => this.transports.send(device, n));
    } catch (err) {
      metrics.deliveries.inc({ platform: device.platform, outcome: 'retry' });
      const failure =
        err instanceof PushDeliveryError
          ? { class: err.classified.errorClass, reason: failureReasons.value(err.classified.code) }
          : { class: 'transient', reason: 'internal_error' };
      metrics.pushFailures.inc({ platform: device.platform, ...failure });
      throw err;
    }
    metrics.deliveries.inc({ platform: device.platform, outcome: result.status });
    if (result.status === 'dead_token' || result.status === 'rejected') {
      metrics.pushFailures.inc({
        platform: device.platform,
        class: 'permanent',
        reason: failureReasons.value(result.code),
      });
    }
    switch (result.status) {
      case 'delivered': {
        const now = Date.now();
        const latencyMs = context.since === undefined ? undefined : now - context.since;
        if (latencyMs !== undefined) metrics.deliveryLatency.observe({ platform: device.platform }, latencyMs / 1000);
        const sinceArrival = context.arrivedAt === undefined ? undefined : now - context.arrivedAt;
        if (sinceArrival !== undefined && sinceArrival <= ARRIVAL_HORIZON_MS) {
          // INTERNALDATE has whole seconds and the mail server's clock: never below zero.
          metrics.arrivalToPush.observe({ platform: device.platform }, Math.max(0, sinceArrival) / 1000);
        }
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
