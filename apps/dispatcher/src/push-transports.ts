import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../../libs/config';
import { createLogger } from '../../../libs/logging';
import { ApnsTransport, FcmTransport, type DeliveryResult, type PushNotification } from '../../../libs/push';
import type { Device } from '../../../libs/store';

const log = createLogger('transports');

export type SendOutcome = DeliveryResult | { status: 'transport_disabled' };

/** The process's push clients: one long-lived client per service, created from config. */
@Injectable()
export class PushTransports implements OnApplicationShutdown {
  private readonly apns: ApnsTransport | undefined;
  private readonly fcm: FcmTransport | undefined;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.apns = config.apns ? new ApnsTransport(config.apns) : undefined;
    this.fcm = config.fcm ? new FcmTransport(config.fcm) : undefined;
    if (!this.apns) log.warn('APNs is not configured (APNS_*): iOS devices will not be notified');
    if (!this.fcm) log.warn('FCM is not configured (FCM_*): Android devices will not be notified');
  }

  async send(device: Device, notification: PushNotification): Promise<SendOutcome> {
    switch (device.platform) {
      case 'ios':
        return this.apns
          ? this.apns.send({ token: device.token, environment: device.environment ?? 'production' }, notification)
          : { status: 'transport_disabled' };
      case 'android':
        return this.fcm ? this.fcm.send(device.token, notification) : { status: 'transport_disabled' };
      default:
        return { status: 'transport_disabled' };
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([this.apns?.close(), this.fcm?.close()]);
  }
}
