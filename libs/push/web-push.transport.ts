import { createHash } from 'node:crypto';
import { Agent } from 'node:https';
import webpush from 'web-push';
import type { WebPushConfig } from '@mailpush/config/app-config';
import { ErrorClass, ErrorCode } from '@mailpush/errors';
import { classifyWebPushError } from './web-push-error.classifier';
import { fitNotification } from './payload-fit';
import {
  PushDeliveryError,
  type DeliveryResult,
  type PushNotification,
  type WebPushSubscription,
} from './push-notification';
import { guardedLookup, literalHostAllowed, subscriptionProblem } from './web-push-endpoint';

/**
 * RFC 8291 (aes128gcm, one record): the push service accepts 4096 bytes of body = an 86-byte
 * header (salt, record size, key id = our 65-byte public key) + plaintext + 1 delimiter byte +
 * 16-byte tag. So the JSON we encrypt may be 3993 bytes.
 */
export const WEB_PUSH_MAX_PLAINTEXT_BYTES = 4096 - 86 - 1 - 16;
const REQUEST_TIMEOUT_MS = 10_000;

export interface WebPushTransportOptions {
  ttlSeconds: number;
  maxSockets: number;
  allowPrivateHosts: boolean;
}

/** What the service worker receives (`event.data.json()`); see docs/payloads.md. */
export interface WebPushPayload {
  title: string;
  body: string;
  locKey?: string;
  locArgs?: string[];
  tag: string;
  badge?: number;
  data: Record<string, string>;
}

export function webPushPayload(n: PushNotification): WebPushPayload {
  return {
    title: n.title,
    body: n.body,
    ...(n.bodyLocKey ? { locKey: n.bodyLocKey } : {}),
    ...(n.bodyLocArgs ? { locArgs: n.bodyLocArgs } : {}),
    tag: n.collapseKey,
    ...(n.badge !== undefined ? { badge: n.badge } : {}),
    data: { ...n.data },
  };
}

/** RFC 8030 `Topic`: at most 32 base64url characters; the same message replaces itself while queued. */
function topicOf(collapseKey: string): string {
  return createHash('sha256').update(collapseKey).digest('base64url').slice(0, 32);
}

/**
 * Sends Web Push (RFC 8030) messages with VAPID (RFC 8292) and aes128gcm encryption (RFC 8291)
 * through `web-push`, over keep-alive connections whose every resolved address is checked against
 * private ranges. One request per send; the queue retries.
 */
export class WebPushTransport {
  private readonly agent: Agent;
  private closed = false;

  constructor(
    private readonly config: WebPushConfig,
    private readonly options: WebPushTransportOptions,
  ) {
    this.agent = new Agent({
      keepAlive: true,
      maxSockets: options.maxSockets,
      lookup: guardedLookup(options.allowPrivateHosts),
    });
  }

  async send(subscription: WebPushSubscription, n: PushNotification): Promise<DeliveryResult> {
    if (this.closed) {
      throw new PushDeliveryError('webpush', {
        errorClass: ErrorClass.Transient,
        code: ErrorCode.TransportClosed,
        message: 'Web Push transport is shut down',
      });
    }
    const problem = subscriptionProblem(subscription);
    if (problem)
      return { status: 'rejected', code: ErrorCode.InvalidSubscription, message: `Web Push subscription: ${problem}` };
    if (!literalHostAllowed(subscription.endpoint, this.options.allowPrivateHosts)) {
      return {
        status: 'rejected',
        code: ErrorCode.HostNotAllowed,
        message: 'Web Push endpoint is on a private or reserved network',
      };
    }
    const fitted = fitNotification(n, WEB_PUSH_MAX_PLAINTEXT_BYTES, (c) =>
      Buffer.byteLength(JSON.stringify(webPushPayload(c)), 'utf8'),
    );
    if (!fitted) return { status: 'rejected', code: ErrorCode.PayloadTooLarge, message: 'Web Push payload too large' };

    try {
      await webpush.sendNotification(subscription, JSON.stringify(webPushPayload(fitted)), {
        vapidDetails: {
          subject: this.config.subject,
          publicKey: this.config.publicKey,
          privateKey: this.config.privateKey,
        },
        TTL: this.options.ttlSeconds,
        // RFC 8030 §5.3: "normal" is for chat messages and the like; "high" is for calls.
        urgency: 'normal',
        topic: topicOf(fitted.collapseKey),
        agent: this.agent,
        timeout: REQUEST_TIMEOUT_MS,
        contentEncoding: 'aes128gcm',
      });
      return { status: 'delivered' };
    } catch (err) {
      const { classified, deadToken } = classifyWebPushError(err);
      if (deadToken) return { status: 'dead_token', code: classified.code };
      if (classified.errorClass === ErrorClass.Permanent)
        return { status: 'rejected', code: classified.code, message: classified.message };
      throw new PushDeliveryError('webpush', classified);
    }
  }

  close(): Promise<void> {
    this.closed = true;
    this.agent.destroy();
    return Promise.resolve();
  }
}
