import type { Messaging } from 'firebase-admin/messaging';

/**
 * Everything the FCM transport relies on inside firebase-admin, in one place; the contract spec
 * beside this file fails if an upgrade moves it:
 * - the retry policy, which has no option: `messagingRequestHandler.{httpClient,http2Client}.retry`;
 * - how `send()` serializes a message (camelCase in, FCM's snake_case JSON out, `ttl` in ms out as
 *   "<s>s"), copied here to measure a payload against FCM's 4096-byte limit before sending.
 */

/** The parts of a message the transport sets: the copy below knows exactly these. */
export interface FcmContent {
  notification: { title?: string; body?: string };
  data: Record<string, string>;
  android: {
    priority: 'high' | 'normal';
    /** Milliseconds, as firebase-admin takes it. */
    ttl: number;
    notification: { tag: string; bodyLocKey?: string; bodyLocArgs?: string[]; notificationCount?: number };
  };
}

/**
 * Switches firebase-admin's own retries off (503 and resets, 4 times at 0/1/2/4 s, the same
 * schedule for every message at once): the queue retries with jitter and honours `retry-after`.
 * Returns false when the shape has changed and its retries stay on.
 */
export function disableMessagingRetries(messaging: Messaging): boolean {
  const handler: unknown = Reflect.get(messaging, 'messagingRequestHandler');
  let adapted = 0;
  for (const clientName of ['httpClient', 'http2Client']) {
    const client: unknown =
      typeof handler === 'object' && handler !== null ? Reflect.get(handler, clientName) : undefined;
    const retry: unknown = typeof client === 'object' && client !== null ? Reflect.get(client, 'retry') : undefined;
    if (typeof retry === 'object' && retry !== null && typeof Reflect.get(retry, 'maxRetries') === 'number') {
      Reflect.set(retry, 'maxRetries', 0);
      adapted++;
    }
  }
  return adapted === 2;
}

/** {@link FcmContent} as firebase-admin puts it on the wire (what FCM measures against its limit). */
export function fcmWireContent(content: FcmContent): Record<string, unknown> {
  const { notification, data, android } = content;
  const a = android.notification;
  return {
    notification,
    data,
    android: {
      priority: android.priority,
      ttl: durationString(android.ttl),
      notification: {
        tag: a.tag,
        body_loc_key: a.bodyLocKey,
        body_loc_args: a.bodyLocArgs,
        notification_count: a.notificationCount,
      },
    },
  };
}

/** Protobuf JSON Duration: whole seconds, or seconds with nine digits of fraction. */
function durationString(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  const nanos = Math.round((ms - seconds * 1000) * 1e6);
  return nanos === 0 ? `${seconds}s` : `${seconds}.${String(nanos).padStart(9, '0')}s`;
}

/** The bytes of {@link fcmWireContent}. */
export function fcmPayloadBytes(content: FcmContent): number {
  return Buffer.byteLength(JSON.stringify(fcmWireContent(content)), 'utf8');
}
