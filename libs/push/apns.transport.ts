import type { ApnsConfig } from '@mailpush/config/app-config';
import { ErrorClass, ErrorCode } from '@mailpush/errors';
import { createApnsClient, type ApnsClient } from './apns-client';
import { classifyApnsFailure, type ApnsFailureLike } from './apns-error.classifier';
import { apnsPayload } from './apns-payload';
import { fitNotification } from './payload-fit';
import type { ApnsTokenStore } from './apns-token.store';
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
 * environment, through the client APNS_CLIENT names (@parse/node-apn by default, or the project's
 * node:http2 one; see apns-client.ts). Both get the same headers, body and JWT from here, and their
 * failures go through the one classifier.
 * - Exactly one request per send: the queue retries with jittered backoff, honouring `retry-after`.
 * - Every request carries the team's one shared JWT from {@link ApnsTokenStore}, never re-signed
 *   here; a 403 ExpiredProviderToken reports it there.
 *
 * Never logs: device tokens and notification content must not reach logs.
 */
export class ApnsTransport {
  private readonly clients = new Map<ApnsDevice['environment'], ApnsClient>();
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
    const body = fittedPayload(n);
    if (body === undefined) {
      return {
        status: 'rejected',
        code: ErrorCode.PayloadTooLarge,
        message: `APNs payload exceeds ${APNS_MAX_PAYLOAD_BYTES} bytes`,
      };
    }

    let jwt: string;
    try {
      jwt = this.options.tokens.fresh() ?? (await this.options.tokens.current());
    } catch {
      throw new PushDeliveryError('apns', {
        errorClass: ErrorClass.Transient,
        code: ErrorCode.ProviderTokenUnavailable,
        message: 'The shared APNs provider token could not be read or minted',
      });
    }

    let failure: ApnsFailureLike;
    try {
      const outcome = await this.client(device.environment).send({
        deviceToken: device.token,
        jwt,
        headers: this.headers(n.collapseKey),
        body,
      });
      if (outcome.delivered)
        return outcome.apnsId === undefined
          ? { status: 'delivered' }
          : { status: 'delivered', providerId: outcome.apnsId };
      failure = outcome.failure;
    } catch (err) {
      // No answer: the connection failed, the stream was reset, or the request timed out.
      failure = { error: err };
    }

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
    const clients = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(clients.map((c) => c.close()));
  }

  /** A visible alert (push type `alert` wants priority 10), kept `ttlSeconds` for an offline device. */
  private headers(collapseId: string): Record<string, string> {
    const headers: Record<string, string> = {
      'apns-topic': this.config.topic,
      'apns-push-type': 'alert',
      'apns-priority': '10',
      'apns-expiration': String(Math.floor(Date.now() / 1000) + this.options.ttlSeconds),
    };
    if (collapseId) headers['apns-collapse-id'] = collapseId;
    return headers;
  }

  private client(environment: ApnsDevice['environment']): ApnsClient {
    let client = this.clients.get(environment);
    if (!client) {
      client = createApnsClient(this.config, environment, this.options.tokens);
      this.clients.set(environment, client);
    }
    return client;
  }
}

/** The payload as sent, its subject shortened when needed to fit 4096 bytes; undefined if it cannot fit. */
function fittedPayload(n: PushNotification): string | undefined {
  const body = apnsPayload(n);
  if (Buffer.byteLength(body, 'utf8') <= APNS_MAX_PAYLOAD_BYTES) return body;
  const fitted = fitNotification(n, APNS_MAX_PAYLOAD_BYTES, (c) => Buffer.byteLength(apnsPayload(c), 'utf8'));
  return fitted && apnsPayload(fitted);
}
