import { Notification, Provider, type ProviderOptions, type ResponseFailure } from '@parse/node-apn';
import type { ApnsConfig } from '../config/app-config';
import { ErrorClass } from '../errors/error-class';
import { classifyApnsFailure } from '../errors/push-error.classifier';
import { PushDeliveryError, type ApnsDevice, type DeliveryResult, type PushNotification } from './push-notification';

/** APNs limits (Apple, "Sending notification requests to APNs"). */
export const APNS_MAX_PAYLOAD_BYTES = 4096;
export const APNS_MAX_COLLAPSE_ID_BYTES = 64;
/** How long APNs keeps trying to reach an offline device. */
const EXPIRY_SECONDS = 3600;

/** Device tokens are hex; 32 bytes today, Apple says they may grow (so 32..100 bytes). */
const TOKEN_PATTERN = /^(?:[0-9a-fA-F]{2}){32,100}$/;

/**
 * Sends alert pushes through APNs with token (p8) auth, one long-lived HTTP/2 connection per
 * environment.
 *
 * Retries: node-apn retries 408/429/500/502/503/504 and 403 ExpiredProviderToken by itself, at
 * once (it reads `Retry-After` with the wrong case, so it never waits). With
 * `connectionRetryLimit: 0` it makes exactly one request per send and the queue retries with
 * backoff; on 403 ExpiredProviderToken it still signs a fresh JWT for the next send.
 *
 * Never logs: device tokens and notification content must not reach logs.
 */
export class ApnsTransport {
  private readonly providers = new Map<ApnsDevice['environment'], Provider>();
  private closed = false;

  constructor(private readonly config: ApnsConfig) {}

  async send(device: ApnsDevice, n: PushNotification): Promise<DeliveryResult> {
    if (this.closed) {
      throw new PushDeliveryError('apns', {
        errorClass: ErrorClass.Transient,
        code: 'transport_closed',
        message: 'APNs transport is shut down',
      });
    }
    if (!TOKEN_PATTERN.test(device.token)) {
      return {
        status: 'rejected',
        code: 'invalid_token',
        message: 'APNs device token is not a hex string of 64-200 digits',
      };
    }
    if (Buffer.byteLength(n.collapseKey, 'utf8') > APNS_MAX_COLLAPSE_ID_BYTES) {
      return {
        status: 'rejected',
        code: 'bad_collapse_id',
        message: `collapse key exceeds ${APNS_MAX_COLLAPSE_ID_BYTES} bytes`,
      };
    }
    const note = this.buildNotification(n);
    // node-apn sends JSON.stringify(note) (its toJSON) as the body.
    if (Buffer.byteLength(JSON.stringify(note), 'utf8') > APNS_MAX_PAYLOAD_BYTES) {
      return {
        status: 'rejected',
        code: 'payload_too_large',
        message: `APNs payload exceeds ${APNS_MAX_PAYLOAD_BYTES} bytes`,
      };
    }

    let failure: ResponseFailure | undefined;
    let apnsId: string | undefined;
    try {
      const { sent, failed } = await this.provider(device.environment).send(note, device.token);
      if (sent.length > 0) {
        const id = (sent[0] as unknown as Record<string, unknown>)['apns-id'];
        apnsId = typeof id === 'string' ? id : undefined;
      } else {
        failure = failed[0] ?? { device: '', error: new Error('node-apn returned no result') };
      }
    } catch (err) {
      // Provider.send settles every recipient itself; a throw here is a local failure.
      failure = { device: '', error: err instanceof Error ? err : new Error('node-apn send failed') };
    }

    if (failure === undefined)
      return apnsId === undefined ? { status: 'delivered' } : { status: 'delivered', providerId: apnsId };

    const { classified, deadToken } = classifyApnsFailure(failure);
    if (deadToken) return { status: 'dead_token', code: classified.code };
    if (classified.errorClass === ErrorClass.Permanent) {
      return { status: 'rejected', code: classified.code, message: classified.message };
    }
    throw new PushDeliveryError('apns', classified);
  }

  async close(): Promise<void> {
    this.closed = true;
    const providers = [...this.providers.values()];
    this.providers.clear();
    await Promise.all(providers.map((p) => shutdownProvider(p)));
  }

  private buildNotification(n: PushNotification): Notification {
    const note = new Notification();
    note.topic = this.config.topic;
    note.pushType = 'alert';
    note.priority = 10;
    note.expiry = Math.floor(Date.now() / 1000) + EXPIRY_SECONDS;
    note.alert = { title: n.title, body: n.body };
    note.collapseId = n.collapseKey;
    note.threadId = n.threadId;
    // Lets a Notification Service Extension fetch/decrypt details before display.
    note.mutableContent = true;
    // Custom keys beside `aps`; node-apn always writes its own `aps` over a data key of that name.
    note.payload = { ...n.data };
    return note;
  }

  private provider(environment: ApnsDevice['environment']): Provider {
    let provider = this.providers.get(environment);
    if (!provider) {
      const options: ProviderOptions = {
        token: { key: this.config.keyPem, keyId: this.config.keyId, teamId: this.config.teamId },
        // Always explicit: node-apn otherwise derives it from NODE_ENV.
        production: environment === 'production',
        connectionRetryLimit: 0,
      };
      if (this.config.endpoint) {
        // Replaces both Apple hosts. The port must be its own option: one inside `address` is ignored.
        // TLS is verified against `address` with the default trust store (plus NODE_EXTRA_CA_CERTS).
        options.address = this.config.endpoint.host;
        options.port = this.config.endpoint.port;
      }
      provider = new Provider(options);
      this.providers.set(environment, provider);
    }
    return provider;
  }
}

/**
 * Provider.shutdown() takes a callback and returns nothing, whatever its typings say. It marks the
 * client destroyed and stops its ping timers at once, then waits for the session's 'close' event;
 * after a connection error (e.g. TLS refused) that event has already fired and the callback never
 * comes, so the wait is bounded.
 */
function shutdownProvider(provider: Provider, maxWaitMs = 2000): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, maxWaitMs);
    timer.unref();
    void provider.shutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
