import { ErrorCode, httpStatusCode } from '@mailpush/errors';
import {
  deadToken,
  headerValue,
  httpAnswer,
  isReachabilityError,
  notDead,
  objectProp,
  parseRetryAfter,
  prop,
  stringProp,
  toStatus,
  unreachable,
  unreachableCode,
  type PushErrorClassification,
} from './push-failure';

/** firebase-admin `messaging/*` codes that say the request itself is wrong: never retry it. */
const FCM_PERMANENT_CODES: Readonly<Record<string, ErrorCode>> = {
  'invalid-argument': ErrorCode.InvalidArgument,
  'invalid-recipient': ErrorCode.InvalidRecipient,
  'invalid-payload': ErrorCode.InvalidPayload,
  'invalid-data-payload-key': ErrorCode.InvalidDataPayloadKey,
  'payload-size-limit-exceeded': ErrorCode.PayloadSizeLimitExceeded,
  'invalid-options': ErrorCode.InvalidOptions,
  'invalid-registration-token': ErrorCode.InvalidRegistrationToken,
  'invalid-package-name': ErrorCode.InvalidPackageName,
  'too-many-topics': ErrorCode.TooManyTopics,
};

const FCM_RATE_CODES: ReadonlySet<string> = new Set([
  'message-rate-exceeded',
  'device-message-rate-exceeded',
  'topics-message-rate-exceeded',
  'too-many-messages',
  'quota-exceeded',
]);

const FCM_DEAD_SERVER_CODES: ReadonlySet<string> = new Set(['UNREGISTERED', 'UNREGISTERED_FID', 'NotRegistered']);

/** An unnamed answer by the shared status ladder, with FCM's own names for 429 and 401/403. */
const FCM_STATUS_CODES: Readonly<Record<number, ErrorCode>> = {
  429: ErrorCode.QuotaExceeded,
  401: ErrorCode.AuthFailed,
  403: ErrorCode.AuthFailed,
};

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
  const status = toStatus(prop(http, 'status'));
  const serverCode = fcmServerCode(prop(http, 'data'));
  const retryAfterMs = parseRetryAfter(headerValue(prop(http, 'headers'), 'retry-after'));
  const label = [serverCode, status !== undefined ? `HTTP ${status}` : undefined].filter(Boolean).join(', ');
  const suffix = label ? ` (${label})` : '';

  if (code === 'registration-token-not-registered' || code === 'installation-id-not-registered') {
    // firebase-admin also maps a bare NOT_FOUND (no FcmError detail) to this code; only the
    // service's explicit UNREGISTERED (or, without a server body, a 404) means the token is gone.
    const explicit =
      serverCode !== undefined ? FCM_DEAD_SERVER_CODES.has(serverCode) : status === undefined || status === 404;
    return explicit
      ? deadToken(ErrorCode.Unregistered, `FCM: registration token is not registered${suffix}`)
      : notDead(ErrorCode.NotFound, `FCM: requested entity was not found${suffix}`);
  }
  const permanent = Object.hasOwn(FCM_PERMANENT_CODES, code) ? FCM_PERMANENT_CODES[code] : undefined;
  if (permanent !== undefined) return notDead(permanent, `FCM rejected the message${suffix}`);

  if (code === 'mismatched-credential') {
    // SENDER_ID_MISMATCH: the token belongs to another Firebase project: permanent for this push, but not pruned.
    return serverCode === 'SENDER_ID_MISMATCH' || serverCode === 'MismatchSenderId'
      ? notDead(ErrorCode.SenderIdMismatch, `FCM: token belongs to another sender${suffix}`)
      : notDead(ErrorCode.PermissionDenied, `FCM denied the credentials permission${suffix}`);
  }
  if (code === 'third-party-auth-error' || code === 'authentication-error') {
    return serverCode === 'THIRD_PARTY_AUTH_ERROR' || serverCode === 'APNS_AUTH_ERROR'
      ? notDead(
          ErrorCode.ThirdPartyAuthError,
          `FCM: APNs/Web Push credentials of the Firebase project were rejected${suffix}`,
        )
      : notDead(ErrorCode.AuthFailed, `FCM rejected the access token${suffix}`);
  }
  if (FCM_RATE_CODES.has(code))
    return notDead(ErrorCode.QuotaExceeded, `FCM asked to slow down${suffix}`, retryAfterMs);
  if (code === 'server-unavailable')
    return notDead(ErrorCode.Unavailable, `FCM temporarily unavailable${suffix}`, retryAfterMs);
  if (code === 'internal-error') return notDead(ErrorCode.Internal, `FCM internal error${suffix}`, retryAfterMs);

  if (code === 'app/network-error' || code === 'app/network-timeout') {
    const netCode =
      code === 'app/network-timeout' ? ErrorCode.Timeout : unreachableCode(objectProp(err, 'cause') ?? err);
    return unreachable(netCode, 'FCM could not be reached', retryAfterMs);
  }
  if (code === 'app/invalid-credential') {
    // Wraps every failure of credential.getAccessToken(): retry only if the token server was
    // unreachable; a refused or unusable key needs a person.
    const cause = objectProp(err, 'cause');
    if (
      cause &&
      (isReachabilityError(cause) || (toStatus(prop(objectProp(cause, 'response'), 'status')) ?? 0) >= 500)
    ) {
      return notDead(ErrorCode.CredentialUnreachable, 'FCM: the OAuth token server could not be reached');
    }
    return notDead(
      ErrorCode.CredentialRejected,
      'FCM: could not obtain an access token with the configured credentials',
    );
  }

  // Unknown code: decide by HTTP status, like the service's own retry guidance.
  if (status !== undefined && status >= 400) {
    return httpAnswer('FCM', FCM_STATUS_CODES[status] ?? httpStatusCode(status), label, retryAfterMs);
  }
  if (isReachabilityError(err)) return unreachable(unreachableCode(err), 'FCM could not be reached', retryAfterMs);
  return notDead(ErrorCode.UnknownError, 'FCM send failed for an unknown reason', retryAfterMs);
}

function fcmServerCode(data: unknown): string | undefined {
  const error = prop(data, 'error');
  if (typeof error === 'string') return safeToken(error);
  const details = prop(error, 'details');
  if (Array.isArray(details)) {
    for (const detail of details) {
      if (prop(detail, '@type') === 'type.googleapis.com/google.firebase.fcm.v1.FcmError') {
        const errorCode = prop(detail, 'errorCode');
        if (typeof errorCode === 'string') return safeToken(errorCode);
      }
    }
  }
  const status = prop(error, 'status');
  return typeof status === 'string' ? safeToken(status) : undefined;
}

function safeToken(value: string): string | undefined {
  return /^[A-Za-z_]{1,64}$/.test(value) ? value : undefined;
}
