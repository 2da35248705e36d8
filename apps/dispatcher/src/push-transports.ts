import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { APP_CONFIG, type AppConfig } from '@mailpush/config';
import { ErrorCode } from '@mailpush/errors';
import { createLogger } from '@mailpush/logging';
import { metrics } from '@mailpush/metrics';
import {
  ApnsTokenStore,
  ApnsTransport,
  FcmTransport,
  InFlightLimiter,
  RedisApnsTokenBackend,
  WebPushTransport,
  type DeliveryResult,
  type PushNotification,
  type WebPushSubscription,
} from '@mailpush/push';
import { REDIS, RedisKeys, type Device, type Platform } from '@mailpush/store';

const log = createLogger('transports');

export type SendOutcome = DeliveryResult | { status: 'transport_disabled' };

/**
 * The process's push clients: one long-lived client per service (APNs: one HTTP/2 connection per
 * environment), each behind its own bound on requests in flight.
 */
@Injectable()
export class PushTransports implements OnApplicationShutdown {
  private readonly apns: ApnsTransport | undefined;
  private readonly fcm: FcmTransport | undefined;
  private readonly web: WebPushTransport | undefined;
  private readonly limiters: Record<Platform, InFlightLimiter>;

  constructor(@Inject(APP_CONFIG) config: AppConfig, @Inject(REDIS) redis: Redis) {
    const { ttlSeconds, maxInFlight } = config.push;
    if (config.apns) {
      const { keyPem, keyId, teamId, jwtRefreshMs } = config.apns;
      const tokens = new ApnsTokenStore({
        keyPem,
        keyId,
        teamId,
        refreshMs: jwtRefreshMs,
        backend: new RedisApnsTokenBackend(redis, RedisKeys.apnsProviderToken(teamId, keyId)),
        onMinted: () => metrics.apnsTokenMints.inc(),
      });
      this.apns = new ApnsTransport(config.apns, { tokens, ttlSeconds });
    }
    this.fcm = config.fcm ? new FcmTransport(config.fcm, { ttlSeconds, maxSockets: maxInFlight }) : undefined;
    this.web = config.webPush
      ? new WebPushTransport(config.webPush, {
          ttlSeconds,
          maxSockets: maxInFlight,
          allowPrivateHosts: config.allowPrivateHosts,
        })
      : undefined;
    this.limiters = {
      ios: new InFlightLimiter(maxInFlight),
      android: new InFlightLimiter(maxInFlight),
      web: new InFlightLimiter(maxInFlight),
    };
    if (!this.apns) log.warn('APNs is not configured (APNS_*): iOS devices will not be notified');
    if (!this.fcm) log.warn('FCM is not configured (FCM_*): Android devices will not be notified');
    if (!this.web) log.warn('Web Push is not configured (VAPID_*): browsers will not be notified');
  }

  async send(device: Device, notification: PushNotification): Promise<SendOutcome> {
    switch (device.platform) {
      case 'ios': {
        const apns = this.apns;
        if (!apns) return { status: 'transport_disabled' };
        const target = { token: device.token, environment: device.environment ?? 'production' };
        return this.limited('ios', () => apns.send(target, notification));
      }
      case 'android': {
        const fcm = this.fcm;
        return fcm
          ? this.limited('android', () => fcm.send(device.token, notification))
          : { status: 'transport_disabled' };
      }
      case 'web': {
        const web = this.web;
        if (!web) return { status: 'transport_disabled' };
        const subscription = parseSubscription(device.token);
        if (!subscription)
          return {
            status: 'rejected',
            code: ErrorCode.InvalidSubscription,
            message: 'stored Web Push subscription is unreadable',
          };
        return this.limited('web', () => web.send(subscription, notification));
      }
      default:
        return { status: 'transport_disabled' };
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([this.apns?.close(), this.fcm?.close(), this.web?.close()]);
  }

  private async limited<T>(platform: Platform, send: () => Promise<T>): Promise<T> {
    const gauge = metrics.pushInFlight.labels({ transport: platform });
    return this.limiters[platform].run(async () => {
      gauge.inc();
      try {
        return await send();
      } finally {
        gauge.dec();
      }
    });
  }
}

function parseSubscription(token: string): WebPushSubscription | undefined {
  try {
    const value = JSON.parse(token) as { endpoint?: unknown; keys?: { p256dh?: unknown; auth?: unknown } };
    const { endpoint, keys } = value;
    if (typeof endpoint !== 'string' || typeof keys?.p256dh !== 'string' || typeof keys.auth !== 'string')
      return undefined;
    return { endpoint, keys: { p256dh: keys.p256dh, auth: keys.auth } };
  } catch {
    return undefined;
  }
}
