import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode } from './error-code';
import {
  classifyNetworkError,
  errorCodeChain,
  HOST_NOT_ALLOWED_CODE,
  isTlsErrorCode,
  networkCodeOf,
} from './network-error.classifier';

const coded = (code: string, cause?: unknown): Error =>
  Object.assign(new Error(code), { code }, cause === undefined ? {} : { cause });

describe('networkCodeOf (the shared socket / DNS / TLS table)', () => {
  it('names each Node code once', () => {
    const cases: [string, ErrorCode | undefined][] = [
      ['ECONNREFUSED', ErrorCode.ConnectFailed],
      ['ECONNRESET', ErrorCode.ConnectFailed],
      ['EHOSTUNREACH', ErrorCode.ConnectFailed],
      ['EAI_AGAIN', ErrorCode.ConnectFailed],
      ['ERR_HTTP2_GOAWAY_SESSION', ErrorCode.ConnectFailed],
      ['ENOTFOUND', ErrorCode.HostNotFound],
      ['ETIMEDOUT', ErrorCode.Timeout],
      ['EPROTO', ErrorCode.TlsFailed],
      ['CERT_HAS_EXPIRED', ErrorCode.TlsFailed],
      ['UNABLE_TO_GET_ISSUER_CERT', ErrorCode.TlsFailed],
      ['ERR_TLS_CERT_ALTNAME_INVALID', ErrorCode.TlsFailed],
      ['ERR_SSL_WRONG_VERSION_NUMBER', ErrorCode.TlsFailed],
      ['ERR_SSL_SOMETHING_NEW', ErrorCode.TlsFailed],
      [HOST_NOT_ALLOWED_CODE, ErrorCode.HostNotAllowed],
      ['host_not_allowed', ErrorCode.HostNotAllowed],
      ['host_not_found', ErrorCode.HostNotFound],
      ['port_not_allowed', ErrorCode.PortNotAllowed],
      ['EACCES', undefined],
      ['toString', undefined],
      ['', undefined],
    ];
    for (const [code, expected] of cases) assert.equal(networkCodeOf(code), expected, code);
  });

  it('knows TLS codes by name and by prefix', () => {
    assert.ok(isTlsErrorCode('EPROTO'));
    assert.ok(isTlsErrorCode('ERR_TLS_INVALID_PROTOCOL_VERSION'));
    assert.ok(!isTlsErrorCode('ECONNRESET'));
  });
});

describe('classifyNetworkError', () => {
  it('reads the error, Error.cause and VError jse_cause chains', () => {
    assert.equal(classifyNetworkError(coded('ECONNREFUSED')), ErrorCode.ConnectFailed);
    assert.equal(classifyNetworkError(new Error('wrapped', { cause: coded('ENOTFOUND') })), ErrorCode.HostNotFound);
    const vError = Object.assign(new Error('apn write failed'), {
      cause: () => undefined,
      jse_cause: coded('CERT_HAS_EXPIRED'),
    });
    assert.deepEqual(errorCodeChain(vError), ['CERT_HAS_EXPIRED']);
    assert.equal(classifyNetworkError(vError), ErrorCode.TlsFailed);
  });

  it('lets the most specific failure in a chain win', () => {
    assert.equal(classifyNetworkError(coded('ECONNRESET', coded('CERT_HAS_EXPIRED'))), ErrorCode.TlsFailed);
    assert.equal(classifyNetworkError(coded('ECONNRESET', coded(HOST_NOT_ALLOWED_CODE))), ErrorCode.HostNotAllowed);
  });

  it('says nothing about what is not a network failure', () => {
    assert.equal(classifyNetworkError(new Error('boom')), undefined);
    assert.equal(classifyNetworkError('ECONNRESET'), undefined);
    assert.equal(classifyNetworkError(null), undefined);
  });

  it('stops on cyclic causes', () => {
    const a: Error & { cause?: unknown } = coded('EACCES');
    a.cause = a;
    assert.equal(classifyNetworkError(a), undefined);
  });
});
