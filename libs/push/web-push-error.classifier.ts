import { describeErrorCode, ErrorCode, errorCodeChain, httpStatusCode, networkCodeOf } from '@mailpush/errors';
import {
  deadToken,
  headerValue,
  isReachabilityError,
  httpAnswer,
  notDead,
  parseRetryAfter,
  prop,
  retriable,
  toStatus,
  unreachable,
  unreachableCode,
  type PushErrorClassification,
} from './push-failure';

/** RFC 8030 statuses with a meaning of their own; the rest go by the shared status ladder. */
const WEB_PUSH_STATUSES: Readonly<Record<number, { code: ErrorCode; words: string }>> = {
  401: { code: ErrorCode.VapidRejected, words: 'Web Push service rejected the VAPID credentials' },
  // The subscription was made with another application server key: no retry helps, the
  // subscription itself may still be fine for the app that made it.
  403: { code: ErrorCode.VapidKeyMismatch, words: 'Web Push service refused our VAPID key for this subscription' },
  413: { code: ErrorCode.PayloadTooLarge, words: 'Web Push payload too large' },
  429: { code: ErrorCode.TooManyRequests, words: 'Web Push service asked to slow down' },
};

/** RFC 8030: the subscription is gone. */
const WEB_PUSH_DEAD_STATUSES: Readonly<Record<number, ErrorCode>> = {
  404: ErrorCode.SubscriptionNotFound,
  410: ErrorCode.SubscriptionGone,
};

/**
 * Classifies what `webpush.sendNotification()` rejected with: a `WebPushError` (`statusCode`,
 * `headers`, `body`) for any non-2xx answer, or a socket/TLS/DNS error. The body is never read:
 * push services may echo the endpoint.
 */
export function classifyWebPushError(err: unknown): PushErrorClassification {
  const status = toStatus(prop(err, 'statusCode'));
  const retryAfterMs = parseRetryAfter(headerValue(prop(err, 'headers'), 'retry-after'));
  if (status !== undefined) {
    const label = `HTTP ${status}`;
    const dead = WEB_PUSH_DEAD_STATUSES[status];
    if (dead !== undefined) return deadToken(dead, `Web Push: the subscription no longer exists (${label})`);
    const named = WEB_PUSH_STATUSES[status];
    if (named === undefined) return httpAnswer('Web Push service', httpStatusCode(status), label, retryAfterMs);
    return notDead(
      named.code,
      `${named.words} (${label})`,
      retriable(describeErrorCode(named.code).errorClass) ? retryAfterMs : undefined,
    );
  }
  if (errorCodeChain(err).some((c) => networkCodeOf(c) === ErrorCode.HostNotAllowed)) {
    return notDead(ErrorCode.HostNotAllowed, 'Web Push endpoint is on a private or reserved network');
  }
  if (isReachabilityError(err)) return unreachable(unreachableCode(err), 'Web Push service could not be reached');
  // web-push reports its own socket timeout as a bare Error: retry, the attempts are bounded.
  return notDead(ErrorCode.UnknownError, 'Web Push send failed for an unknown reason');
}
