import {
  Notification,
  Provider,
  type NotificationAlertOptions,
  type ProviderOptions,
  type ResponseFailure,
} from '@parse/node-apn';
import type { ApnsConfig } from '@mailpush/config/app-config';
import { ErrorClass, ErrorCode } from '@mailpush/errors';
import { classifyApnsFailure } from './apns-error.classifier';
import { fitNotification } from './payload-fit';
import type { ApnsTokenStore } from './apns-token.store';
import { adaptNodeApnProvider, apnsPayloadBytes, sentApnsId, shutdownNodeApnProvider } from './node-apn.adapter';
import { PushDeliveryError, type ApnsDevice, type DeliveryResult, type PushNotification } from './push-notification';

/** APNs limits (Apple, "Sending notification requests to APNs"). */
export const APNS_MAX_PAYLOAD_BYTES = 4096;
export const APNS_MAX_COLLAPSE_ID_BYTES = 64;

/** Device tokens are hex; 32 bytes today, Apple says they may grow (so 32..100 bytes). */
const TOKEN_PATTERN = /^(?:[0-9a-fA-F]{2}){32,100}$/;

export interface ApnsTransportOptions {
  /** The team's provider token, shared by every dispatcher process. */
  tokens: ApnsTokenStore;
  /** How long APNs keeps trying to reach an offline device (`apns-expiration`). */
  ttlSeconds: number;
}

/**
 * Sends alert pushes through APNs with token (p8) auth, one long-lived HTTP/2 connection per
 * environment.
 *
 * node-apn is used for its HTTP/2 client, with three things taken back from it:
 * - Retries: `connectionRetryLimit: 0`, exactly one request per send; the queue retries with
 *   jittered backoff (node-apn would retry at once).
 * - `retry-after` and the provider token (every provider reads the team's one shared JWT from
 *   {@link ApnsTokenStore} and never re-signs): see node-apn.adapter.ts.
 *
 * Never logs: device tokens and notification content must not reach logs.
 */
export class ApnsTransport {
  private readonly providers = new Map<ApnsDevice['environment'], Provider>();
  private closed = false;

  constructor(
    private readonly config: ApnsConfig,
    private readonly options: ApnsTransportOptions,
  ) {}

  async send(device: ApnsDevice, n: PushNotification): Promise<DeliveryResult> {
    if (this.closed) {
      throw new PushDeliveryError('apns', {
        errorClass: ErrorClass.Transient,
        code: ErrorCode.TransportClosed,
        message: 'APNs transport is shut down',
      });
    }
    if (!TOKEN_PATTERN.test(device.token)) {
      return {
        status: 'rejected',
        code: ErrorCode.InvalidToken,
        message: 'APNs device token is not a hex string of 64-200 digits',
      };
    }
    if (Buffer.byteLength(n.collapseKey, 'utf8') > APNS_MAX_COLLAPSE_ID_BYTES) {
      return {
        status: 'rejected',
        code: ErrorCode.BadCollapseId,
        message: `collapse key exceeds ${APNS_MAX_COLLAPSE_ID_BYTES} bytes`,
      };
    }
    const fitted = fitNotification(n, APNS_MAX_PAYLOAD_BYTES, (c) => apnsPayloadBytes(this.buildNotification(c)));
    if (!fitted) {
      return {
        status: 'rejected',
        code: ErrorCode.PayloadTooLarge,
        message: `APNs payload exceeds ${APNS_MAX_PAYLOAD_BYTES} bytes`,
      };
    }
    const note = this.buildNotification(fitted);

    let jwt: string;
    try {
      jwt = await this.options.tokens.current();
    } catch {
      throw new PushDeliveryError('apns', {
        errorClass: ErrorClass.Transient,
        code: ErrorCode.ProviderTokenUnavailable,
        message: 'The shared APNs provider token could not be read or minted',
      });
    }

    let failure: (ResponseFailure & { retryAfterMs?: number }) | undefined;
    let apnsId: string | undefined;
    try {
      const { sent, failed } = await this.provider(device.environment).send(note, device.token);
      if (sent.length > 0) {
        apnsId = sentApnsId(sent[0]);
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
    if (classified.code === ErrorCode.ExpiredProviderToken)
      await this.options.tokens.reportExpired(jwt).catch(() => undefined);
    if (classified.errorClass === ErrorClass.Permanent) {
      return { status: 'rejected', code: classified.code, message: classified.message };
    }
    throw new PushDeliveryError('apns', classified);
  }

  async close(): Promise<void> {
    this.closed = true;
    const providers = [...this.providers.values()];
    this.providers.clear();
    await Promise.all(providers.map((p) => shutdownNodeApnProvider(p)));
  }

  private buildNotification(n: PushNotification): Notification {
    const note = new Notification();
    note.topic = this.config.topic;
    note.pushType = 'alert';
    note.priority = 10;
    note.expiry = Math.floor(Date.now() / 1000) + this.options.ttlSeconds;
    const alert: Partial<NotificationAlertOptions> = {};
    if (n.title) alert.title = n.title;
    if (n.body) alert.body = n.body;
    if (n.bodyLocKey) alert['loc-key'] = n.bodyLocKey;
    if (n.bodyLocArgs) alert['loc-args'] = n.bodyLocArgs;
    // APNs does not require `body` (a loc-key or title-only alert is valid); node-apn's typing does.
    note.alert = alert as NotificationAlertOptions;
    note.collapseId = n.collapseKey;
    note.threadId = n.threadId;
    // Lets a Notification Service Extension fetch/decrypt details before display.
    note.mutableContent = true;
    if (n.badge !== undefined) note.badge = n.badge;
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
      adaptNodeApnProvider(provider, this.options.tokens);
      this.providers.set(environment, provider);
    }
    return provider;
  }
}
