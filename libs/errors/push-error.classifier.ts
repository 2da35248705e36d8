import { ErrorClass, type ClassifiedError } from './error-class';

/**
 * The one place that turns push-service failures (APNs via @parse/node-apn, FCM via
 * firebase-admin) into a {@link ClassifiedError} plus the only decision that destroys data:
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

/**
 * A failure as @parse/node-apn reports it: `{ status, response: { reason } }` for an HTTP answer,
 * `{ status, error }` for the answers it rewrites (500 `InternalServerError`, 403
 * `ExpiredProviderToken`), `{ error }` for network trouble and timeouts. It drops `retry-after`, so
 * `retryAfterMs` is only there if a caller found it elsewhere.
 */
export interface ApnsFailureLike {
  status?: number | string | null;
  response?: { reason?: unknown; timestamp?: unknown } | null;
  error?: unknown;
  retryAfterMs?: number;
}

// ---------------------------------------------------------------------------------------------
// APNs
// ---------------------------------------------------------------------------------------------

/** reason -> status Apple uses for it, for the three reasons that mean "delete this token". */
const APNS_DEAD_REASONS: Record<string, number> = {
  Unregistered: 410,
  BadDeviceToken: 400,
  DeviceTokenNotForTopic: 400,
};

/** 4xx reasons that are about the connection or our token, not the request: retry. */
const APNS_TRANSIENT_REASONS = new Set(['ExpiredProviderToken', 'IdleTimeout']);

export function classifyApnsFailure(failure: ApnsFailureLike): PushErrorClassification {
  const status = toStatus(failure.status);
  const reason = apnsReason(failure, status);
  const retryAfterMs = validDelay(failure.retryAfterMs);

  if (status === undefined) {
    // No HTTP answer: connection refused/reset, TLS failure, timeout, client shut down.
    return transient(networkCode(failure.error), 'APNs could not be reached', retryAfterMs);
  }

  if (reason !== undefined && APNS_DEAD_REASONS[reason] === status) {
    return {
      classified: {
        errorClass: ErrorClass.Permanent,
        code: snake(reason),
        message: `APNs: device token is no longer valid (${reason})`,
      },
      deadToken: true,
    };
  }

  const label = reason ? `${reason}, HTTP ${status}` : `HTTP ${status}`;
  const code = reason ? snake(reason) : apnsStatusCode(status);

  if (status === 429) {
    return notDead({
      errorClass: ErrorClass.RateLimited,
      code,
      message: `APNs asked to slow down (${label})`,
      retryAfterMs,
    });
  }
  if (status >= 500 || status === 408 || (reason !== undefined && APNS_TRANSIENT_REASONS.has(reason))) {
    return transient(code, `APNs temporary failure (${label})`, retryAfterMs);
  }
  if (status === 401 || status === 403) {
    return notDead({ errorClass: ErrorClass.Auth, code, message: `APNs rejected the provider credentials (${label})` });
  }
  if (status >= 400) {
    return notDead({ errorClass: ErrorClass.Permanent, code, message: `APNs rejected the notification (${label})` });
  }
  return transient(code, `APNs unexpected answer (${label})`, retryAfterMs);
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

function apnsStatusCode(status: number): string {
  switch (status) {
    case 500:
      return 'internal_server_error';
    case 503:
      return 'service_unavailable';
    case 429:
      return 'too_many_requests';
    default:
      return `http_${status}`;
  }
}

// ---------------------------------------------------------------------------------------------
// FCM (firebase-admin)
// ---------------------------------------------------------------------------------------------

/** firebase-admin `messaging/*` codes that say the request itself is wrong: never retry it. */
const FCM_PERMANENT_CODES = new Set([
  'invalid-argument',
  'invalid-recipient',
  'invalid-payload',
  'invalid-data-payload-key',
  'payload-size-limit-exceeded',
  'invalid-options',
  'invalid-registration-token',
  'invalid-package-name',
  'too-many-topics',
]);

const FCM_RATE_CODES = new Set([
  'message-rate-exceeded',
  'device-message-rate-exceeded',
  'topics-message-rate-exceeded',
  'too-many-messages',
  'quota-exceeded',
]);

const FCM_DEAD_SERVER_CODES = new Set(['UNREGISTERED', 'UNREGISTERED_FID', 'NotRegistered']);

/**
 * Classifies what `getMessaging(app).send()` rejected with: a `FirebaseMessagingError`
 * (`code: 'messaging/…'`, `httpResponse: { status, headers, data }`), a `FirebaseAppError`
 * (`app/network-error`, `app/network-timeout`, `app/invalid-credential`), or anything else.
 * Read structurally, so it needs no import of firebase-admin.
 */
export function classifyFcmError(err: unknown): PushErrorClassification {
  const rawCode = stringProp(err, 'code') ?? '';
  const code = rawCode.startsWith('messaging/') ? rawCode.slice('messaging/'.length) : rawCode;
  const http = objectProp(err, 'httpResponse');
  const status = toStatus(http ? (http as Record<string, unknown>).status : undefined);
  const serverCode = fcmServerCode(http ? (http as Record<string, unknown>).data : undefined);
  const retryAfterMs = parseRetryAfter(
    http ? headerValue((http as Record<string, unknown>).headers, 'retry-after') : undefined,
  );
  const label = [serverCode, status !== undefined ? `HTTP ${status}` : undefined].filter(Boolean).join(', ');
  const suffix = label ? ` (${label})` : '';

  if (code === 'registration-token-not-registered' || code === 'installation-id-not-registered') {
    // firebase-admin also maps a bare NOT_FOUND (no FcmError detail) to this code; only the
    // service's explicit UNREGISTERED (or, without a server body, a 404) means the token is gone.
    const explicit =
      serverCode !== undefined ? FCM_DEAD_SERVER_CODES.has(serverCode) : status === undefined || status === 404;
    if (explicit) {
      return {
        classified: {
          errorClass: ErrorClass.Permanent,
          code: 'unregistered',
          message: `FCM: registration token is not registered${suffix}`,
        },
        deadToken: true,
      };
    }
    return notDead({
      errorClass: ErrorClass.Permanent,
      code: 'not_found',
      message: `FCM: requested entity was not found${suffix}`,
    });
  }

  if (FCM_PERMANENT_CODES.has(code)) {
    return notDead({
      errorClass: ErrorClass.Permanent,
      code: snakeFromKebab(code),
      message: `FCM rejected the message${suffix}`,
    });
  }

  if (code === 'mismatched-credential') {
    if (serverCode === 'SENDER_ID_MISMATCH' || serverCode === 'MismatchSenderId') {
      // The token belongs to another Firebase project: permanent for this push, but not pruned.
      return notDead({
        errorClass: ErrorClass.Permanent,
        code: 'sender_id_mismatch',
        message: `FCM: token belongs to another sender${suffix}`,
      });
    }
    return notDead({
      errorClass: ErrorClass.Auth,
      code: 'permission_denied',
      message: `FCM denied the credentials permission${suffix}`,
    });
  }

  if (code === 'third-party-auth-error' || code === 'authentication-error') {
    const thirdParty = serverCode === 'THIRD_PARTY_AUTH_ERROR' || serverCode === 'APNS_AUTH_ERROR';
    return notDead({
      errorClass: ErrorClass.Auth,
      code: thirdParty ? 'third_party_auth_error' : 'auth_failed',
      message: thirdParty
        ? `FCM: APNs/Web Push credentials of the Firebase project were rejected${suffix}`
        : `FCM rejected the access token${suffix}`,
    });
  }

  if (FCM_RATE_CODES.has(code)) {
    return notDead({
      errorClass: ErrorClass.RateLimited,
      code: 'quota_exceeded',
      message: `FCM asked to slow down${suffix}`,
      retryAfterMs,
    });
  }

  if (code === 'server-unavailable')
    return transient('unavailable', `FCM temporarily unavailable${suffix}`, retryAfterMs);
  if (code === 'internal-error') return transient('internal', `FCM internal error${suffix}`, retryAfterMs);

  if (code === 'app/network-error' || code === 'app/network-timeout') {
    const netCode = code === 'app/network-timeout' ? 'timeout' : networkCode(objectProp(err, 'cause') ?? err);
    return transient(netCode, 'FCM could not be reached', retryAfterMs);
  }

  if (code === 'app/invalid-credential') {
    // Wraps every failure of credential.getAccessToken(): retry only if the token server was
    // unreachable; a refused or unusable key needs a person.
    const cause = objectProp(err, 'cause');
    if (cause && (isNetworkError(cause) || (toStatus(objectProp(cause, 'response')?.status) ?? 0) >= 500)) {
      return transient('credential_unreachable', 'FCM: the OAuth token server could not be reached', undefined);
    }
    return notDead({
      errorClass: ErrorClass.Auth,
      code: 'credential_rejected',
      message: 'FCM: could not obtain an access token with the configured credentials',
    });
  }

  // Unknown code: decide by HTTP status, like the service's own retry guidance.
  if (status !== undefined) {
    if (status === 429)
      return notDead({
        errorClass: ErrorClass.RateLimited,
        code: 'quota_exceeded',
        message: `FCM asked to slow down${suffix}`,
        retryAfterMs,
      });
    if (status >= 500 || status === 408)
      return transient(`http_${status}`, `FCM temporary failure${suffix}`, retryAfterMs);
    if (status === 401 || status === 403)
      return notDead({
        errorClass: ErrorClass.Auth,
        code: 'auth_failed',
        message: `FCM rejected the credentials${suffix}`,
      });
    if (status >= 400)
      return notDead({
        errorClass: ErrorClass.Permanent,
        code: `http_${status}`,
        message: `FCM rejected the message${suffix}`,
      });
  }
  if (isNetworkError(err)) return transient(networkCode(err), 'FCM could not be reached', retryAfterMs);
  return transient('unknown_error', 'FCM send failed for an unknown reason', retryAfterMs);
}

function fcmServerCode(data: unknown): string | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const error = (data as Record<string, unknown>).error;
  if (typeof error === 'string') return safeToken(error);
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as Record<string, unknown>;
  if (Array.isArray(e.details)) {
    for (const detail of e.details as unknown[]) {
      if (
        typeof detail === 'object' &&
        detail !== null &&
        (detail as Record<string, unknown>)['@type'] === 'type.googleapis.com/google.firebase.fcm.v1.FcmError'
      ) {
        const errorCode = (detail as Record<string, unknown>).errorCode;
        if (typeof errorCode === 'string') return safeToken(errorCode);
      }
    }
  }
  return typeof e.status === 'string' ? safeToken(e.status) : undefined;
}

// ---------------------------------------------------------------------------------------------
// Web Push (web-push)
// ---------------------------------------------------------------------------------------------

/** Set by the transport's connect-time address check (SSRF guard), never by a push service. */
export const HOST_NOT_ALLOWED_CODE = 'EHOSTNOTALLOWED';

/**
 * Classifies what `webpush.sendNotification()` rejected with: a `WebPushError` (`statusCode`,
 * `headers`, `body`) for any non-2xx answer, or a socket/TLS/DNS error. The body is never read:
 * push services may echo the endpoint.
 */
export function classifyWebPushError(err: unknown): PushErrorClassification {
  const status = toStatus(
    typeof err === 'object' && err !== null ? (err as Record<string, unknown>).statusCode : undefined,
  );
  const retryAfterMs = parseRetryAfter(headerValue(objectProp(err, 'headers'), 'retry-after'));
  if (status !== undefined) {
    const label = `HTTP ${status}`;
    if (status === 404 || status === 410) {
      return {
        classified: {
          errorClass: ErrorClass.Permanent,
          code: status === 410 ? 'subscription_gone' : 'subscription_not_found',
          message: `Web Push: the subscription no longer exists (${label})`,
        },
        deadToken: true,
      };
    }
    if (status === 429) {
      return notDead({
        errorClass: ErrorClass.RateLimited,
        code: 'too_many_requests',
        message: `Web Push service asked to slow down (${label})`,
        retryAfterMs,
      });
    }
    if (status >= 500 || status === 408)
      return transient(`http_${status}`, `Web Push service temporary failure (${label})`, retryAfterMs);
    if (status === 401) {
      return notDead({
        errorClass: ErrorClass.Auth,
        code: 'vapid_rejected',
        message: `Web Push service rejected the VAPID credentials (${label})`,
      });
    }
    if (status === 403) {
      // The subscription was made with another application server key: no retry helps, the
      // subscription itself may still be fine for the app that made it.
      return notDead({
        errorClass: ErrorClass.Permanent,
        code: 'vapid_key_mismatch',
        message: `Web Push service refused our VAPID key for this subscription (${label})`,
      });
    }
    if (status === 413)
      return notDead({
        errorClass: ErrorClass.Permanent,
        code: 'payload_too_large',
        message: `Web Push payload too large (${label})`,
      });
    if (status >= 400)
      return notDead({
        errorClass: ErrorClass.Permanent,
        code: `http_${status}`,
        message: `Web Push service rejected the message (${label})`,
      });
    return transient(`http_${status}`, `Web Push service unexpected answer (${label})`, retryAfterMs);
  }
  if (errorCodes(err).includes(HOST_NOT_ALLOWED_CODE)) {
    return notDead({
      errorClass: ErrorClass.Permanent,
      code: 'host_not_allowed',
      message: 'Web Push endpoint is on a private or reserved network',
    });
  }
  if (isNetworkError(err)) return transient(networkCode(err), 'Web Push service could not be reached', undefined);
  // web-push reports its own socket timeout as a bare Error: retry, the attempts are bounded.
  return transient('unknown_error', 'Web Push send failed for an unknown reason', undefined);
}

// ---------------------------------------------------------------------------------------------
// shared helpers
// ---------------------------------------------------------------------------------------------

const TLS_ERROR_CODES = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
]);

const NETWORK_ERROR_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ERR_HTTP2_STREAM_ERROR',
  'ERR_HTTP2_SESSION_ERROR',
  'ERR_HTTP2_GOAWAY_SESSION',
  'ERR_HTTP2_STREAM_CANCEL',
  'ERR_HTTP2_ERROR',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/** Walks an error and its causes (VError's jse_cause, Error.cause) for a Node error code. */
function errorCodes(err: unknown): string[] {
  const codes: string[] = [];
  let current: unknown = err;
  for (let depth = 0; depth < 6 && typeof current === 'object' && current !== null; depth++) {
    const c = current as Record<string, unknown>;
    if (typeof c.code === 'string') codes.push(c.code);
    // VError (node-apn) has a cause() method and keeps the cause in jse_cause.
    current = typeof c.cause === 'function' ? c.jse_cause : (c.cause ?? c.jse_cause);
  }
  return codes;
}

function isNetworkError(err: unknown): boolean {
  return errorCodes(err).some(
    (c) => NETWORK_ERROR_CODES.has(c) || TLS_ERROR_CODES.has(c) || c.startsWith('ERR_TLS') || c.startsWith('ERR_SSL'),
  );
}

function networkCode(err: unknown): string {
  const codes = errorCodes(err);
  if (codes.some((c) => TLS_ERROR_CODES.has(c) || c.startsWith('ERR_TLS') || c.startsWith('ERR_SSL')))
    return 'tls_failed';
  if (codes.includes('ETIMEDOUT') || /timeout/i.test(errorMessage(err) ?? '')) return 'timeout';
  if (codes.includes('ECONNREFUSED')) return 'connection_refused';
  if (codes.includes('ENOTFOUND') || codes.includes('EAI_AGAIN')) return 'dns_failed';
  return 'network';
}

function errorMessage(err: unknown): string | undefined {
  if (typeof err === 'string') return err;
  if (typeof err === 'object' && err !== null) {
    const message = (err as Record<string, unknown>).message;
    if (typeof message === 'string') return message;
  }
  return undefined;
}

function transient(code: string, message: string, retryAfterMs: number | undefined): PushErrorClassification {
  return notDead({ errorClass: ErrorClass.Transient, code, message, retryAfterMs });
}

function notDead(classified: ClassifiedError): PushErrorClassification {
  if (classified.retryAfterMs === undefined) delete classified.retryAfterMs;
  return { classified, deadToken: false };
}

function toStatus(value: unknown): number | undefined {
  const n = typeof value === 'string' && /^\d{3}$/.test(value) ? Number(value) : value;
  return typeof n === 'number' && Number.isInteger(n) && n >= 100 && n <= 599 ? n : undefined;
}

function validDelay(ms: number | undefined): number | undefined {
  return typeof ms === 'number' && Number.isFinite(ms) && ms >= 0 ? Math.round(ms) : undefined;
}

/** `Retry-After` is either delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function headerValue(headers: unknown, name: string): string | undefined {
  if (typeof headers !== 'object' || headers === null) return undefined;
  for (const [key, value] of Object.entries(headers as Record<string, unknown>)) {
    if (key.toLowerCase() !== name) continue;
    if (typeof value === 'string') return value;
    if (typeof value === 'number') return String(value);
    if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
  }
  return undefined;
}

function stringProp(value: unknown, key: string): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = (value as Record<string, unknown>)[key];
  return typeof v === 'string' ? v : undefined;
}

function objectProp(value: unknown, key: string): Record<string, unknown> | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = (value as Record<string, unknown>)[key];
  return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : undefined;
}

function safeToken(value: string): string | undefined {
  return /^[A-Za-z_]{1,64}$/.test(value) ? value : undefined;
}

/** `BadDeviceToken` -> `bad_device_token`. */
function snake(reason: string): string {
  return reason.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

function snakeFromKebab(code: string): string {
  return code.replace(/-/g, '_');
}
