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
    assert.equal(
      classifyImapError(err({ responseText: 'Too many simultaneous connections' })).errorClass,
      ErrorClass.RateLimited,
    );
    const ms = classifyImapError(
      err({ responseText: 'Request is throttled. Suggested Backoff Time: 1234 milliseconds' }),
    );
    assert.equal(ms.errorClass, ErrorClass.RateLimited);
    assert.equal(ms.retryAfterMs, 1234);
  });

  it('maps Gmail, Dovecot and Yahoo throttling words and imapflow throttling to rate_limited', () => {
    for (const text of [
      '[ALERT] Too many simultaneous connections. (Failure)',
      'Maximum number of connections from user+IP exceeded (mail_max_userip_connections=10)',
      'Rate limit hit',
    ]) {
      assert.equal(
        classifyImapError(err({ code: 'ServerBye', responseText: text })).errorClass,
        ErrorClass.RateLimited,
        text,
      );
    }
    assert.equal(classifyImapError(err({ serverResponseCode: 'THROTTLED' })).errorClass, ErrorClass.RateLimited);
    const throttled = classifyImapError(err({ code: 'ETHROTTLE', throttleReset: 5000 }));
    assert.equal(throttled.errorClass, ErrorClass.RateLimited);
    assert.equal(throttled.retryAfterMs, 5000);
  });

  it('never mistakes a throttled login for rejected credentials', () => {
    const c = classifyImapError(
      err({ authenticationFailed: true, serverResponseCode: 'LIMIT', responseText: 'Too many logins' }),
    );
    assert.equal(c.errorClass, ErrorClass.RateLimited);
    assert.equal(
      classifyImapError(err({ authenticationFailed: true, serverResponseCode: 'UNAVAILABLE' })).errorClass,
      ErrorClass.RateLimited,
    );
  });

  it("maps the watcher's own failures: unanswered probe, slow login, BYE, closed, unparseable junk", () => {
    assert.equal(classifyImapError(err({ code: 'ProbeTimeout' })).code, 'probe_timeout');
    assert.equal(classifyImapError(err({ code: 'SetupTimeout' })).code, 'timeout');
    assert.equal(
      classifyImapError(err({ code: 'ServerBye', responseText: 'Server shutting down.' })).code,
      'server_closed',
    );
    assert.equal(classifyImapError(err({ code: 'ConnectionClosed' })).code, 'connection_closed');
    const closedEarly = classifyImapError(err({ code: 'ClosedAfterConnectTLS' }));
    assert.deepEqual(
      [closedEarly.errorClass, closedEarly.code],
      [ErrorClass.Transient, 'connect_failed'],
      'not a TLS failure',
    );
    const byeAtConnect = classifyImapError(
      err({ code: 'ClosedAfterConnectTLS', reason: 'Maximum number of connections from user+IP exceeded' }),
    );
    assert.equal(byeAtConnect.errorClass, ErrorClass.RateLimited);
    const junk = classifyImapError(err({ code: 'Unparseable' }));
    assert.equal(junk.code, 'protocol_error');
    assert.equal(junk.errorClass, ErrorClass.Transient);
  });

  it('maps TLS, network, timeout and hostile-server failures', () => {
    assert.equal(classifyImapError(err({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' })).code, 'tls_failed');
    assert.equal(classifyImapError(err({ code: 'ECONNREFUSED' })).code, 'connect_failed');
    assert.equal(classifyImapError(err({ code: 'ETIMEOUT' })).code, 'timeout');
    assert.equal(classifyImapError(err({ code: 'LiteralTooLarge' })).code, 'protocol_error');
    for (const code of ['LineTooLarge', 'ResponseTooLarge', 'TooManyTokens', 'ParserError2']) {
      const c = classifyImapError(err({ code }, `junk \u0000 from the server ${'a'.repeat(5000)}`));
      assert.equal(c.code, 'protocol_error', code);
      assert.ok(c.message.length < 120 && !c.message.includes('aaa'), 'server text is never echoed');
    }
    assert.equal(classifyImapError(err({ code: 'ETIMEOUT' })).errorClass, ErrorClass.Transient);
    assert.equal(classifyImapError('weird').errorClass, ErrorClass.Transient);
  });

  it('reads network failures from the shared table, causes included', () => {
    const wrapped = new Error('connect failed', { cause: err({ code: 'ENOTFOUND' }) });
    assert.equal(classifyImapError(wrapped).code, 'host_not_found');
    assert.equal(classifyImapError(err({ code: 'EPROTO' })).code, 'tls_failed');
    assert.equal(classifyImapError(err({ code: 'CONNECT_TIMEOUT' })).code, 'timeout');
  });

  it('gives a host guard refusal the same code and class as the guard itself', () => {
    const refused = classifyImapError(err({ code: 'host_not_allowed' }));
    assert.deepEqual([refused.errorClass, refused.code], [ErrorClass.Permanent, 'host_not_allowed']);
  });
});
