import {
  classified,
  classifyNetworkError,
  describeErrorCode,
  ErrorClass,
  ErrorCode,
  type ClassifiedError,
} from '@mailpush/errors';

/**
 * A push-service failure in the shared vocabulary, plus the only decision that destroys data:
 * whether the device token is dead and may be deleted.
 *
 * Pruning rules (deliberately narrow: a valid token pruned by mistake is a silent, permanent loss):
 * - APNs: 410 `Unregistered`, 400 `BadDeviceToken`, 400 `DeviceTokenNotForTopic`.
 * - FCM: `UNREGISTERED` (404).
 * - Web Push: 404 and 410 from the push service (RFC 8030: the subscription is gone).
 * - Never on 5xx, 429, network or TLS trouble, credential trouble, or FCM `INVALID_ARGUMENT`
 *   (which also covers a bad payload: it is `rejected`, the token is kept).
 *
 * Messages are fixed words built from codes: server texts can echo values (payload content), and
 * the raw library errors hold the token and the request body, so neither is copied.
 */
export interface PushErrorClassification {
  classified: ClassifiedError;
  /** True only when the service said the token will never work again. */
  deadToken: boolean;
}

export function deadToken(code: ErrorCode, message: string): PushErrorClassification {
  return { classified: classified(code, message), deadToken: true };
}

export function notDead(code: ErrorCode, message: string, retryAfterMs?: number): PushErrorClassification {
  return { classified: classified(code, message, retryAfterMs), deadToken: false };
}

/**
 * A push service is a fixed host the operator configured: when it cannot be reached, even over a
 * bad TLS handshake (proxy, clock, rotation), the queue retries. (A user's own IMAP server with a
 * bad certificate will not fix itself: there `tls_failed` stays permanent.)
 */
export function unreachable(code: ErrorCode, message: string, retryAfterMs?: number): PushErrorClassification {
  const { classified } = notDead(code, message, retryAfterMs);
  const transient: ClassifiedError = { ...classified, errorClass: ErrorClass.Transient };
  return { classified: transient, deadToken: false };
}

const ANSWER_WORDS: Readonly<Record<ErrorClass, string>> = {
  [ErrorClass.RateLimited]: 'asked to slow down',
  [ErrorClass.Transient]: 'temporary failure',
  [ErrorClass.Auth]: 'rejected the credentials',
  [ErrorClass.Permanent]: 'rejected the message',
};

/** An HTTP answer of a push service, in words picked by the code's class (`label`: reason and status). */
export function httpAnswer(
  service: string,
  code: ErrorCode,
  label: string,
  retryAfterMs?: number,
): PushErrorClassification {
  const { errorClass } = describeErrorCode(code);
  return notDead(
    code,
    `${service} ${ANSWER_WORDS[errorClass]} (${label})`,
    retriable(errorClass) ? retryAfterMs : undefined,
  );
}

/** Only a failure that a later attempt may fix carries the service's suggested wait. */
export function retriable(errorClass: ErrorClass): boolean {
  return errorClass === ErrorClass.Transient || errorClass === ErrorClass.RateLimited;
}

/**
 * The service could not be reached: the shared network code of the error or its causes; a bare
 * "timeout" message (node-apn's VError('apn write timeout')) is a timeout; anything else failed to connect.
 */
export function unreachableCode(err: unknown): ErrorCode {
  const network = classifyNetworkError(err);
  if (network !== undefined) return network;
  return /timeout/i.test(errorMessage(err) ?? '') ? ErrorCode.Timeout : ErrorCode.ConnectFailed;
}

/** Any socket, DNS or TLS failure in the error or its causes (as opposed to an answer from the service). */
export function isReachabilityError(err: unknown): boolean {
  return classifyNetworkError(err) !== undefined;
}

export function errorMessage(err: unknown): string | undefined {
  if (typeof err === 'string') return err;
  const message: unknown = typeof err === 'object' && err !== null ? Reflect.get(err, 'message') : undefined;
  return typeof message === 'string' ? message : undefined;
}

export function toStatus(value: unknown): number | undefined {
  const n = typeof value === 'string' && /^\d{3}$/.test(value) ? Number(value) : value;
  return typeof n === 'number' && Number.isInteger(n) && n >= 100 && n <= 599 ? n : undefined;
}

/** `Retry-After` is either delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export function headerValue(headers: unknown, name: string): string | undefined {
  if (typeof headers !== 'object' || headers === null) return undefined;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name) continue;
    if (typeof value === 'string') return value;
    if (typeof value === 'number') return String(value);
    if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
  }
  return undefined;
}

export function prop(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? Reflect.get(value, key) : undefined;
}

export function objectProp(value: unknown, key: string): object | undefined {
  const v = prop(value, key);
  return typeof v === 'object' && v !== null ? v : undefined;
}

export function stringProp(value: unknown, key: string): string | undefined {
  const v = prop(value, key);
  return typeof v === 'string' ? v : undefined;
}
