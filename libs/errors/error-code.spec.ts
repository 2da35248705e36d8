import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classified } from './classified-error';
import { ErrorClass } from './error-class';
import { classOfHttpStatus, describeErrorCode, ERROR_CATALOG, ErrorCode, isNamedErrorCode } from './error-code';

describe('ErrorCode catalog', () => {
  it('describes every named code with a class and plain words, and nothing else', () => {
    const named = Object.values(ErrorCode).sort();
    assert.deepEqual(Object.keys(ERROR_CATALOG).sort(), named);
    assert.equal(new Set(named).size, named.length, 'two names for one code');
    for (const code of named) {
      const { errorClass, message } = ERROR_CATALOG[code];
      assert.ok(Object.values(ErrorClass).includes(errorClass), code);
      assert.match(message, /^[A-Z].*[.!]$/, `${code}: a sentence a person can read`);
      assert.doesNotMatch(message, /\b[A-Z_]{6,}\b|\bhttp_|\$\{/, `${code}: no machine words`);
    }
  });

  it('codes are lower snake case, so they survive as metric labels and JSON keys', () => {
    for (const code of Object.values(ErrorCode)) assert.match(code, /^[a-z][a-z0-9_]{0,63}$/);
  });

  it('keeps the codes clients already read stable', () => {
    for (const code of [
      'auth_failed',
      'connect_failed',
      'tls_failed',
      'timeout',
      'host_not_found',
      'host_not_allowed',
      'rate_limited',
      'unauthorized',
      'link_expired',
      'link_scope',
      'web_push_disabled',
      'not_found',
      'invalid_request',
      'too_many_attempts',
      'reauth_required',
      'starttls_unavailable',
      'unsupported_server',
      'port_not_allowed',
    ]) {
      assert.ok(isNamedErrorCode(code), code);
    }
  });

  it('classes the codes policy keys off as the design says', () => {
    assert.equal(describeErrorCode(ErrorCode.AuthFailed).errorClass, ErrorClass.Auth);
    assert.equal(describeErrorCode(ErrorCode.ReauthRequired).errorClass, ErrorClass.Auth);
    assert.equal(describeErrorCode(ErrorCode.RateLimited).errorClass, ErrorClass.RateLimited);
    assert.equal(describeErrorCode(ErrorCode.ConnectFailed).errorClass, ErrorClass.Transient);
    assert.equal(describeErrorCode(ErrorCode.HostNotFound).errorClass, ErrorClass.Transient);
    // The host guard's refusal is permanent wherever it is met (IMAP host, Web Push endpoint).
    assert.equal(describeErrorCode(ErrorCode.HostNotAllowed).errorClass, ErrorClass.Permanent);
    assert.equal(describeErrorCode(ErrorCode.PortNotAllowed).errorClass, ErrorClass.Permanent);
    assert.equal(describeErrorCode(ErrorCode.Unregistered).errorClass, ErrorClass.Permanent);
  });

  it('describes http_<status> codes by the status ladder', () => {
    assert.equal(describeErrorCode('http_503').errorClass, ErrorClass.Transient);
    assert.equal(describeErrorCode('http_418').errorClass, ErrorClass.Permanent);
    assert.match(describeErrorCode('http_418').message, /418/);
  });

  it('builds classifications whose class is the code’s own', () => {
    assert.deepEqual(classified(ErrorCode.Timeout), {
      errorClass: ErrorClass.Transient,
      code: 'timeout',
      message: ERROR_CATALOG.timeout.message,
    });
    assert.deepEqual(classified(ErrorCode.QuotaExceeded, 'slow', 5000), {
      errorClass: ErrorClass.RateLimited,
      code: 'quota_exceeded',
      message: 'slow',
      retryAfterMs: 5000,
    });
  });
});

describe('classOfHttpStatus (the one status ladder)', () => {
  it('429 slows down, 408 and 5xx retry, 401/403 are credentials, other 4xx are final', () => {
    const cases: [number, ErrorClass][] = [
      [429, ErrorClass.RateLimited],
      [408, ErrorClass.Transient],
      [500, ErrorClass.Transient],
      [503, ErrorClass.Transient],
      [599, ErrorClass.Transient],
      [401, ErrorClass.Auth],
      [403, ErrorClass.Auth],
      [400, ErrorClass.Permanent],
      [404, ErrorClass.Permanent],
      [413, ErrorClass.Permanent],
      [302, ErrorClass.Transient],
    ];
    for (const [status, errorClass] of cases) assert.equal(classOfHttpStatus(status), errorClass, String(status));
  });
});
