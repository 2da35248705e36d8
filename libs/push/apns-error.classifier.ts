import { ErrorCode, httpStatusCode } from '@mailpush/errors';
import {
  deadToken,
  errorMessage,
  httpAnswer,
  toStatus,
  unreachable,
  unreachableCode,
  type PushErrorClassification,
} from './push-failure';

/**
 * A failure as @parse/node-apn reports it: `{ status, response: { reason } }` for an HTTP answer,
 * `{ status, error }` for the answers it rewrites (500 `InternalServerError`, 403
 * `ExpiredProviderToken`), `{ error }` for network trouble and timeouts. It drops `retry-after`:
 * the node-apn adapter puts it back as `retryAfterMs`. The node:http2 client's answers (APNS_CLIENT=http2)
 * come as `{ status, response: { reason }, retryAfterMs }`, and a request without an answer as `{ error }`.
 */
export interface ApnsFailureLike {
  status?: number | string | null;
  response?: { reason?: unknown; timestamp?: unknown } | null;
  error?: unknown;
  retryAfterMs?: number;
}

/** Apple's `reason` values ("Handling notification responses from APNs"); the class is the code's. */
const APNS_REASONS: Readonly<Record<string, ErrorCode>> = {
  BadCollapseId: ErrorCode.BadCollapseId,
  BadDeviceToken: ErrorCode.BadDeviceToken,
  BadExpirationDate: ErrorCode.BadExpirationDate,
  BadMessageId: ErrorCode.BadMessageId,
  BadPriority: ErrorCode.BadPriority,
  BadTopic: ErrorCode.BadTopic,
  DeviceTokenNotForTopic: ErrorCode.DeviceTokenNotForTopic,
  DuplicateHeaders: ErrorCode.DuplicateHeaders,
  IdleTimeout: ErrorCode.IdleTimeout,
  InvalidPushType: ErrorCode.InvalidPushType,
  MissingDeviceToken: ErrorCode.MissingDeviceToken,
  MissingTopic: ErrorCode.MissingTopic,
  PayloadEmpty: ErrorCode.PayloadEmpty,
  TopicDisallowed: ErrorCode.TopicDisallowed,
  BadCertificate: ErrorCode.BadCertificate,
  BadCertificateEnvironment: ErrorCode.BadCertificateEnvironment,
  ExpiredProviderToken: ErrorCode.ExpiredProviderToken,
  Forbidden: ErrorCode.Forbidden,
  InvalidProviderToken: ErrorCode.InvalidProviderToken,
  MissingProviderToken: ErrorCode.MissingProviderToken,
  UnrelatedKeyIdInToken: ErrorCode.UnrelatedKeyIdInToken,
  BadEnvironmentKeyInToken: ErrorCode.BadEnvironmentKeyInToken,
  BadPath: ErrorCode.BadPath,
  MethodNotAllowed: ErrorCode.MethodNotAllowed,
  ExpiredToken: ErrorCode.ExpiredToken,
  Unregistered: ErrorCode.Unregistered,
  PayloadTooLarge: ErrorCode.PayloadTooLarge,
  TooManyProviderTokenUpdates: ErrorCode.TooManyProviderTokenUpdates,
  TooManyRequests: ErrorCode.TooManyRequests,
  InternalServerError: ErrorCode.InternalServerError,
  ServiceUnavailable: ErrorCode.ServiceUnavailable,
  Shutdown: ErrorCode.Shutdown,
};

/** reason -> status Apple uses for it, for the three reasons that mean "delete this token". */
const APNS_DEAD_REASONS: Readonly<Record<string, number>> = {
  Unregistered: 410,
  BadDeviceToken: 400,
  DeviceTokenNotForTopic: 400,
};

/** An answer without a reason body (node-apn rewrites some): named by its status. */
const APNS_STATUS_CODES: Readonly<Record<number, ErrorCode>> = {
  500: ErrorCode.InternalServerError,
  503: ErrorCode.ServiceUnavailable,
  429: ErrorCode.TooManyRequests,
};

export function classifyApnsFailure(failure: ApnsFailureLike): PushErrorClassification {
  const status = toStatus(failure.status);
  const reason = apnsReason(failure, status);
  const retryAfterMs = validDelay(failure.retryAfterMs);

  if (status === undefined) {
    // No HTTP answer: connection refused/reset, TLS failure, timeout, client shut down.
    return unreachable(unreachableCode(failure.error), 'APNs could not be reached', retryAfterMs);
  }
  const known = reason !== undefined && Object.hasOwn(APNS_REASONS, reason) ? reason : undefined;
  if (known !== undefined && APNS_DEAD_REASONS[known] === status) {
    return deadToken(APNS_REASONS[known] ?? ErrorCode.Unregistered, `APNs: device token is no longer valid (${known})`);
  }
  const label = reason ? `${reason}, HTTP ${status}` : `HTTP ${status}`;
  const code =
    (known !== undefined ? APNS_REASONS[known] : undefined) ?? APNS_STATUS_CODES[status] ?? httpStatusCode(status);
  return httpAnswer('APNs', code, label, retryAfterMs);
}

function apnsReason(failure: ApnsFailureLike, status: number | undefined): string | undefined {
  const fromBody = failure.response?.reason;
  if (typeof fromBody === 'string' && /^[A-Za-z]{1,64}$/.test(fromBody)) return fromBody;
  // node-apn replaces the body of a 403 ExpiredProviderToken by `error: VError('ExpiredProviderToken')`.
  if (status === 403) {
    const message = errorMessage(failure.error);
    if (message !== undefined && /^[A-Za-z]{1,64}$/.test(message)) return message;
  }
  return undefined;
}

function validDelay(ms: number | undefined): number | undefined {
  return typeof ms === 'number' && Number.isFinite(ms) && ms >= 0 ? Math.round(ms) : undefined;
}
