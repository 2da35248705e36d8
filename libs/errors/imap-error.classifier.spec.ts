import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorClass } from './error-class';
import { classifyImapError } from './imap-error.classifier';

const err = (props: Record<string, unknown>, message = 'x'): Error => Object.assign(new Error(message), props);

describe('classifyImapError', () => {
  it('maps authentication failures to auth', () => {
    const c = classifyImapError(err({ authenticationFailed: true, responseText: 'LOGIN hunter2 failed' }));
    assert.equal(c.errorClass, ErrorClass.Auth);
    assert.equal(c.code, 'auth_failed');
    assert.ok(!c.message.includes('hunter2'));
  });

  it('maps [LIMIT], too many connections and Microsoft throttling to rate_limited', () => {
    assert.equal(classifyImapError(err({ serverResponseCode: 'LIMIT' })).errorClass, ErrorClass.RateLimited);
    assert.equal(classifyImapError(err({ responseText: 'Too many simultaneous connections' })).errorClass, ErrorClass.RateLimited);
    const ms = classifyImapError(err({ responseText: 'Request is throttled. Suggested Backoff Time: 1234 milliseconds' }));
    assert.equal(ms.errorClass, ErrorClass.RateLimited);
    assert.equal(ms.retryAfterMs, 1234);
  });

  it('maps TLS, network, timeout and hostile-server failures', () => {
    assert.equal(classifyImapError(err({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' })).code, 'tls_failed');
    assert.equal(classifyImapError(err({ code: 'ECONNREFUSED' })).code, 'connect_failed');
    assert.equal(classifyImapError(err({ code: 'ETIMEOUT' })).code, 'timeout');
    assert.equal(classifyImapError(err({ code: 'LiteralTooLarge' })).code, 'protocol_error');
    assert.equal(classifyImapError('weird').errorClass, ErrorClass.Transient);
  });
});
