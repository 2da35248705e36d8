import { ErrorCode } from './error-code';

/**
 * Node's socket, DNS and TLS error codes, and the host guards' refusals, in the shared vocabulary:
 * the IMAP and push classifiers both read them from here, so a refused connection or a bad
 * certificate has one code and one class whichever client met it.
 */
const TLS_ERROR_CODES: ReadonlySet<string> = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  // OpenSSL's handshake failures (e.g. a plain-text server on a TLS port) surface as EPROTO.
  'EPROTO',
]);

const TIMEOUT_ERROR_CODES: ReadonlySet<string> = new Set(['ETIMEDOUT', 'ETIMEOUT']);

/** EAI_AGAIN is a resolver hiccup, not a missing name: it reads as "could not connect". */
const DNS_ERROR_CODES: ReadonlySet<string> = new Set(['ENOTFOUND']);

const CONNECT_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EPIPE',
  'EAI_AGAIN',
  'ERR_HTTP2_STREAM_ERROR',
  'ERR_HTTP2_SESSION_ERROR',
  'ERR_HTTP2_GOAWAY_SESSION',
  'ERR_HTTP2_STREAM_CANCEL',
  'ERR_HTTP2_ERROR',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/**
 * Codes our own guards give their refusals (libs/imap host guard and port policy, the Web Push
 * endpoint guard): a private or reserved address never becomes public by retrying.
 */
export const HOST_NOT_ALLOWED_CODE = 'EHOSTNOTALLOWED';
const GUARD_CODES: Readonly<Record<string, ErrorCode>> = {
  [HOST_NOT_ALLOWED_CODE]: ErrorCode.HostNotAllowed,
  [ErrorCode.HostNotAllowed]: ErrorCode.HostNotAllowed,
  [ErrorCode.HostNotFound]: ErrorCode.HostNotFound,
  [ErrorCode.PortNotAllowed]: ErrorCode.PortNotAllowed,
};

export function isTlsErrorCode(code: string): boolean {
  return TLS_ERROR_CODES.has(code) || code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL');
}

/** The network code for one Node error code, or undefined when it is not a network failure. */
export function networkCodeOf(code: string): ErrorCode | undefined {
  const guarded = Object.hasOwn(GUARD_CODES, code) ? GUARD_CODES[code] : undefined;
  if (guarded !== undefined) return guarded;
  if (isTlsErrorCode(code)) return ErrorCode.TlsFailed;
  if (TIMEOUT_ERROR_CODES.has(code)) return ErrorCode.Timeout;
  if (DNS_ERROR_CODES.has(code)) return ErrorCode.HostNotFound;
  if (CONNECT_ERROR_CODES.has(code)) return ErrorCode.ConnectFailed;
  return undefined;
}

const PRECEDENCE: readonly ErrorCode[] = [
  ErrorCode.HostNotAllowed,
  ErrorCode.PortNotAllowed,
  ErrorCode.TlsFailed,
  ErrorCode.Timeout,
  ErrorCode.HostNotFound,
  ErrorCode.ConnectFailed,
];

/**
 * The network failure an error (or any of its causes) stands for, or undefined. When the chain
 * holds several, the most specific wins: a guard refusal, then TLS, timeout, DNS, connect.
 */
export function classifyNetworkError(err: unknown): ErrorCode | undefined {
  const found = new Set(errorCodeChain(err).map(networkCodeOf));
  return PRECEDENCE.find((code) => found.has(code));
}

/** Walks an error and its causes (Error.cause, VError's jse_cause) for Node error codes. */
export function errorCodeChain(err: unknown): string[] {
  const codes: string[] = [];
  let current: unknown = err;
  for (let depth = 0; depth < 6 && typeof current === 'object' && current !== null; depth++) {
    const code: unknown = Reflect.get(current, 'code');
    if (typeof code === 'string') codes.push(code);
    const cause: unknown = Reflect.get(current, 'cause');
    // VError (node-apn) has a cause() method and keeps the cause itself in jse_cause.
    current =
      typeof cause === 'function' || cause === undefined || cause === null ? Reflect.get(current, 'jse_cause') : cause;
  }
  return codes;
}
