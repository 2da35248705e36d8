import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FirebaseAppError } from 'firebase-admin/app';
import { FirebaseMessagingError } from 'firebase-admin/messaging';
import { ErrorClass, HOST_NOT_ALLOWED_CODE } from '@mailpush/errors';
import { classifyApnsFailure } from './apns-error.classifier';
import { classifyFcmError } from './fcm-error.classifier';
import { parseRetryAfter } from './push-failure';
import { classifyWebPushError } from './web-push-error.classifier';

const apns = (status: number, reason: string) => classifyApnsFailure({ status, response: { reason } });

/** node-apn wraps causes in VError: a cause() method, the cause itself in jse_cause. */
function vError(message: string, cause?: Error): Error {
  const err = new Error(message) as Error & { jse_cause?: Error };
  Object.defineProperty(err, 'cause', { value: () => cause });
  err.jse_cause = cause;
  return err;
}

function fcmServerError(
  status: number,
  rpcStatus: string,
  clientCode: string,
  fcmCode?: string,
  headers: Record<string, string> = {},
): FirebaseMessagingError {
  const details = fcmCode
    ? [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode: fcmCode }]
    : undefined;
  return new FirebaseMessagingError({
    code: clientCode,
    message: 'server said so',
    httpResponse: {
      status,
      headers,
      data: { error: { code: status, message: 'server said so', status: rpcStatus, ...(details ? { details } : {}) } },
    },
  });
}

describe('classifyApnsFailure', () => {
  it('prunes exactly on 410 Unregistered, 400 BadDeviceToken and 400 DeviceTokenNotForTopic', () => {
    for (const [status, reason, code] of [
      [410, 'Unregistered', 'unregistered'],
      [400, 'BadDeviceToken', 'bad_device_token'],
      [400, 'DeviceTokenNotForTopic', 'device_token_not_for_topic'],
    ] as const) {
      const r = apns(status, reason);
      assert.equal(r.deadToken, true, reason);
      assert.equal(r.classified.errorClass, ErrorClass.Permanent);
      assert.equal(r.classified.code, code);
    }
  });

  it('never prunes on 5xx, 429, credentials or network trouble, even with a dead-looking reason', () => {
    const notDead = [
      classifyApnsFailure({ status: 500, response: { reason: 'Unregistered' } }),
      classifyApnsFailure({ status: 503, response: { reason: 'BadDeviceToken' } }),
      classifyApnsFailure({ status: 429, response: { reason: 'Unregistered' } }),
      classifyApnsFailure({ status: 403, response: { reason: 'BadDeviceToken' } }),
      classifyApnsFailure({ status: 410, response: { reason: 'BadDeviceToken' } }),
      classifyApnsFailure({ error: new Error('Unregistered') }),
      apns(410, 'ExpiredToken'),
    ];
    for (const r of notDead) assert.equal(r.deadToken, false, JSON.stringify(r.classified));
  });

  it('retries 500/503, 403 ExpiredProviderToken (node-apn shape) and network errors', () => {
    const internal = classifyApnsFailure({ status: 500, error: vError('Error 500, stream ended unexpectedly') });
    assert.deepEqual(internal.classified, {
      errorClass: ErrorClass.Transient,
      code: 'internal_server_error',
      message: 'APNs temporary failure (HTTP 500)',
    });
    assert.equal(apns(503, 'ServiceUnavailable').classified.errorClass, ErrorClass.Transient);
    assert.equal(apns(503, 'Shutdown').classified.code, 'shutdown');

    const expired = classifyApnsFailure({ status: 403, error: vError('ExpiredProviderToken') });
    assert.equal(expired.classified.errorClass, ErrorClass.Transient);
    assert.equal(expired.classified.code, 'expired_provider_token');
    assert.equal(apns(403, 'ExpiredProviderToken').classified.errorClass, ErrorClass.Transient);

    const reset = classifyApnsFailure({
      error: vError('apn write failed', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })),
    });
    assert.deepEqual([reset.classified.errorClass, reset.classified.code], [ErrorClass.Transient, 'connect_failed']);
    assert.equal(classifyApnsFailure({ error: vError('apn write timeout') }).classified.code, 'timeout');
    const tls = classifyApnsFailure({
      error: Object.assign(new Error('altnames'), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' }),
    });
    assert.equal(tls.classified.code, 'tls_failed');
    assert.equal(
      classifyApnsFailure({ status: '(timeout)', error: new Error('x') }).classified.errorClass,
      ErrorClass.Transient,
    );
  });

  it('rate-limits 429 and keeps a retry-after when one was found', () => {
    const r = classifyApnsFailure({ status: 429, response: { reason: 'TooManyRequests' }, retryAfterMs: 2000 });
    assert.deepEqual(r.classified, {
      errorClass: ErrorClass.RateLimited,
      code: 'too_many_requests',
      message: 'APNs asked to slow down (TooManyRequests, HTTP 429)',
      retryAfterMs: 2000,
    });
    assert.equal(apns(429, 'TooManyProviderTokenUpdates').classified.code, 'too_many_provider_token_updates');
    assert.equal('retryAfterMs' in apns(429, 'TooManyRequests').classified, false);
  });

  it('treats credential refusals as Auth and bad requests as Permanent', () => {
    for (const reason of ['InvalidProviderToken', 'MissingProviderToken', 'BadCertificate', 'Forbidden']) {
      assert.equal(apns(403, reason).classified.errorClass, ErrorClass.Auth, reason);
    }
    for (const [status, reason] of [
      [400, 'BadCollapseId'],
      [400, 'TopicDisallowed'],
      [400, 'PayloadEmpty'],
      [413, 'PayloadTooLarge'],
      [405, 'MethodNotAllowed'],
    ] as const) {
      const r = apns(status, reason);
      assert.equal(r.classified.errorClass, ErrorClass.Permanent, reason);
      assert.equal(r.deadToken, false);
    }
  });

  it('does not trust odd reason strings as codes', () => {
    const r = classifyApnsFailure({ status: 400, response: { reason: '<b>device 0123abcd</b>' } });
    assert.equal(r.classified.code, 'http_400');
    assert.ok(!r.classified.message.includes('0123abcd'));
  });
});

describe('classifyFcmError', () => {
  it('prunes on UNREGISTERED only', () => {
    const unregistered = classifyFcmError(
      fcmServerError(404, 'NOT_FOUND', 'registration-token-not-registered', 'UNREGISTERED'),
    );
    assert.equal(unregistered.deadToken, true);
    assert.deepEqual(
      [unregistered.classified.errorClass, unregistered.classified.code],
      [ErrorClass.Permanent, 'unregistered'],
    );

    // A bare NOT_FOUND (wrong project, wrong path) is mapped to the same firebase code: keep the token.
    const bare = classifyFcmError(fcmServerError(404, 'NOT_FOUND', 'registration-token-not-registered'));
    assert.equal(bare.deadToken, false);
    assert.equal(bare.classified.code, 'not_found');
  });

  it('rejects INVALID_ARGUMENT without pruning', () => {
    const r = classifyFcmError(fcmServerError(400, 'INVALID_ARGUMENT', 'invalid-argument', 'INVALID_ARGUMENT'));
    assert.equal(r.deadToken, false);
    assert.deepEqual([r.classified.errorClass, r.classified.code], [ErrorClass.Permanent, 'invalid_argument']);
    // firebase-admin's own client-side validation (no HTTP response).
    const local = classifyFcmError(
      new FirebaseMessagingError({ code: 'invalid-payload', message: 'data must only contain string values' }),
    );
    assert.deepEqual([local.deadToken, local.classified.errorClass], [false, ErrorClass.Permanent]);
  });

  it('retries 503, 500 and network errors; 429 is RateLimited with retry-after', () => {
    const unavailable = classifyFcmError(
      fcmServerError(503, 'UNAVAILABLE', 'server-unavailable', 'UNAVAILABLE', { 'retry-after': '30' }),
    );
    assert.deepEqual(unavailable.classified, {
      errorClass: ErrorClass.Transient,
      code: 'unavailable',
      message: 'FCM temporarily unavailable (UNAVAILABLE, HTTP 503)',
      retryAfterMs: 30_000,
    });
    assert.equal(
      classifyFcmError(fcmServerError(500, 'INTERNAL', 'internal-error', 'INTERNAL')).classified.errorClass,
      ErrorClass.Transient,
    );

    const quota = classifyFcmError(
      fcmServerError(429, 'RESOURCE_EXHAUSTED', 'message-rate-exceeded', 'QUOTA_EXCEEDED', { 'retry-after': '5' }),
    );
    assert.deepEqual(
      [quota.deadToken, quota.classified.errorClass, quota.classified.code, quota.classified.retryAfterMs],
      [false, ErrorClass.RateLimited, 'quota_exceeded', 5000],
    );

    const network = classifyFcmError(
      new FirebaseAppError({
        code: 'network-error',
        message: 'Error while making request',
        cause: Object.assign(new Error('x'), { code: 'ECONNREFUSED' }),
      }),
    );
    assert.deepEqual(
      [network.deadToken, network.classified.errorClass, network.classified.code],
      [false, ErrorClass.Transient, 'connect_failed'],
    );
    assert.equal(
      classifyFcmError(new FirebaseAppError({ code: 'network-timeout', message: 't' })).classified.code,
      'timeout',
    );
  });

  it('separates our credentials (Auth) from a token of another project (Permanent)', () => {
    assert.equal(
      classifyFcmError(fcmServerError(401, 'UNAUTHENTICATED', 'third-party-auth-error')).classified.code,
      'auth_failed',
    );
    const apnsAuth = classifyFcmError(
      fcmServerError(401, 'UNAUTHENTICATED', 'third-party-auth-error', 'THIRD_PARTY_AUTH_ERROR'),
    );
    assert.deepEqual(
      [apnsAuth.classified.errorClass, apnsAuth.classified.code],
      [ErrorClass.Auth, 'third_party_auth_error'],
    );
    const denied = classifyFcmError(fcmServerError(403, 'PERMISSION_DENIED', 'mismatched-credential'));
    assert.deepEqual([denied.classified.errorClass, denied.classified.code], [ErrorClass.Auth, 'permission_denied']);
    const mismatch = classifyFcmError(
      fcmServerError(403, 'PERMISSION_DENIED', 'mismatched-credential', 'SENDER_ID_MISMATCH'),
    );
    assert.deepEqual([mismatch.deadToken, mismatch.classified.errorClass], [false, ErrorClass.Permanent]);

    const refused = classifyFcmError(new FirebaseAppError({ code: 'invalid-credential', message: 'invalid_grant' }));
    assert.equal(refused.classified.errorClass, ErrorClass.Auth);
    const unreachable = classifyFcmError(
      new FirebaseAppError({
        code: 'invalid-credential',
        message: 'x',
        cause: Object.assign(new Error('dns'), { code: 'EAI_AGAIN' }),
      }),
    );
    assert.equal(unreachable.classified.errorClass, ErrorClass.Transient);
  });

  it('falls back on the HTTP status for unknown codes, and never prunes', () => {
    const byStatus = (status: number) => classifyFcmError(fcmServerError(status, 'WHATEVER', 'unknown-error'));
    assert.equal(byStatus(429).classified.errorClass, ErrorClass.RateLimited);
    assert.equal(byStatus(502).classified.errorClass, ErrorClass.Transient);
    assert.equal(byStatus(403).classified.errorClass, ErrorClass.Auth);
    assert.equal(byStatus(400).classified.errorClass, ErrorClass.Permanent);
    for (const status of [400, 403, 404, 429, 500, 502, 503]) assert.equal(byStatus(status).deadToken, false);
    assert.equal(classifyFcmError(new Error('what')).classified.errorClass, ErrorClass.Transient);
    assert.equal(classifyFcmError('weird').deadToken, false);
  });

  it('does not copy server text (which can echo payload values) into the message', () => {
    const err = new FirebaseMessagingError({
      code: 'invalid-argument',
      message: 'Invalid value at \'message.data[0].value\' (TYPE_STRING), "secret subject"',
      httpResponse: {
        status: 400,
        headers: {},
        data: { error: { code: 400, message: 'secret subject', status: 'INVALID_ARGUMENT' } },
      },
    });
    assert.ok(!classifyFcmError(err).classified.message.includes('secret'));
  });
});

describe('parseRetryAfter', () => {
  it('reads delta-seconds and HTTP dates', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(parseRetryAfter('120', now), 120_000);
    assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now), 30_000);
    assert.equal(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now), 0);
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter(undefined, now), undefined);
  });
});

describe('classifyWebPushError', () => {
  /** web-push's WebPushError: statusCode, headers, body (which may echo the endpoint: never read). */
  const webPushError = (statusCode: number, headers: Record<string, string> = {}) =>
    Object.assign(new Error('Received unexpected response code'), {
      statusCode,
      headers,
      body: 'https://push.example/secret-endpoint',
    });

  it('prunes on 404 and 410 only', () => {
    assert.deepEqual(classifyWebPushError(webPushError(410)), {
      classified: {
        errorClass: ErrorClass.Permanent,
        code: 'subscription_gone',
        message: 'Web Push: the subscription no longer exists (HTTP 410)',
      },
      deadToken: true,
    });
    assert.equal(classifyWebPushError(webPushError(404)).deadToken, true);
    for (const status of [400, 401, 403, 413, 429, 500, 502, 503]) {
      assert.equal(classifyWebPushError(webPushError(status)).deadToken, false, String(status));
    }
  });

  it('rate-limits 429 with retry-after, retries 5xx and network errors, never prunes on them', () => {
    const limited = classifyWebPushError(webPushError(429, { 'Retry-After': '7' }));
    assert.deepEqual([limited.classified.errorClass, limited.classified.retryAfterMs], [ErrorClass.RateLimited, 7000]);
    assert.equal(classifyWebPushError(webPushError(503)).classified.errorClass, ErrorClass.Transient);
    const reset = classifyWebPushError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    assert.deepEqual([reset.classified.errorClass, reset.classified.code], [ErrorClass.Transient, 'connect_failed']);
    assert.equal(classifyWebPushError(new Error('Socket timeout')).classified.errorClass, ErrorClass.Transient);
  });

  it('maps VAPID refusals, oversize and the SSRF guard without pruning', () => {
    assert.equal(classifyWebPushError(webPushError(401)).classified.errorClass, ErrorClass.Auth);
    assert.equal(classifyWebPushError(webPushError(403)).classified.code, 'vapid_key_mismatch');
    assert.equal(classifyWebPushError(webPushError(413)).classified.code, 'payload_too_large');
    const guard = classifyWebPushError(Object.assign(new Error('private'), { code: HOST_NOT_ALLOWED_CODE }));
    assert.deepEqual(
      [guard.classified.errorClass, guard.classified.code, guard.deadToken],
      [ErrorClass.Permanent, 'host_not_allowed', false],
    );
    assert.ok(!JSON.stringify(classifyWebPushError(webPushError(400))).includes('secret-endpoint'));
  });
});
