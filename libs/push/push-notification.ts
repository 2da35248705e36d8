import type { ClassifiedError, ErrorClass, ErrorCode } from '@mailpush/errors';

/** What a push says, independent of the service that carries it. */
export interface PushNotification {
  title: string;
  /** May be empty (privacy `none`, summaries). The one text a transport shortens to fit a payload. */
  body: string;
  /**
   * The app's own localized words instead of `body` (APNs alert `loc-key`, FCM `body_loc_key`,
   * Web Push `locKey`): content-free notifications say "New mail" in the phone's language.
   */
  bodyLocKey?: string;
  /** Arguments of `bodyLocKey` (APNs `loc-args`, FCM `body_loc_args`), e.g. a count. */
  bodyLocArgs?: string[];
  /**
   * Stable key of the mail message (<= 64 bytes UTF-8): APNs `apns-collapse-id`, FCM
   * `android.notification.tag`, Web Push `tag` (and a hash of it as the `Topic`), so a resend
   * replaces rather than adds.
   */
  collapseKey: string;
  /** Account id: APNs `thread-id`, groups the notifications of one account. */
  threadId: string;
  /** Custom key/value pairs for the app (APNs custom payload keys, FCM `data`). */
  data: Record<string, string>;
  /** Unseen count when known: APNs `badge`, FCM `notification_count`. */
  badge?: number;
}

/** A browser's PushSubscription (`subscription.toJSON()`), the token of a `web` device. */
export interface WebPushSubscription {
  /** The push service URL for this browser (https). */
  endpoint: string;
  keys: {
    /** The browser's P-256 public key, base64url (65 bytes uncompressed). */
    p256dh: string;
    /** 16-byte authentication secret, base64url. */
    auth: string;
  };
}

/** An iOS/macOS device as APNs knows it. */
export interface ApnsDevice {
  /** Hex device token from `registerForRemoteNotifications`. */
  token: string;
  /** Which APNs the app build talks to (debug builds: sandbox). */
  environment: 'sandbox' | 'production';
}

export type PushProvider = 'apns' | 'fcm' | 'webpush';

/**
 * Outcome of one send that needs no retry. Transient and rate-limited failures (and credential
 * problems) are not results: they are thrown as {@link PushDeliveryError} so the queue retries.
 */
export type DeliveryResult =
  | { status: 'delivered'; providerId?: string }
  /** The service says the token is gone: remove the device. */
  | { status: 'dead_token'; code: ErrorCode }
  /** This push can never be accepted (bad payload, bad argument); the token may still be fine. */
  | { status: 'rejected'; code: ErrorCode; message: string };

/**
 * A send that may succeed later (network, 5xx, 429, expired provider token) or that failed on our
 * credentials (`ErrorClass.Auth`). Carries only the sanitized classification: never the raw
 * library error, which holds the device token and the payload.
 */
export class PushDeliveryError extends Error {
  override readonly name = 'PushDeliveryError';

  constructor(
    readonly provider: PushProvider,
    readonly classified: ClassifiedError,
  ) {
    super(`${provider}: ${classified.message}`);
  }

  get errorClass(): ErrorClass {
    return this.classified.errorClass;
  }

  get code(): ErrorCode {
    return this.classified.code;
  }

  /** Wait the service asked for (from `retry-after`), when it gave one. */
  get retryAfterMs(): number | undefined {
    return this.classified.retryAfterMs;
  }
}
