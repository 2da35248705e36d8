import { ErrorClass, type ClassifiedError } from './error-class';

interface ImapLikeError {
  code?: unknown;
  message?: unknown;
  authenticationFailed?: unknown;
  serverResponseCode?: unknown;
  responseText?: unknown;
  responseStatus?: unknown;
}

const TLS_CODES = new Set([
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'EPROTO',
  'ClosedAfterConnectTLS',
]);
const TIMEOUT_CODES = new Set(['CONNECT_TIMEOUT', 'GREETING_TIMEOUT', 'UPGRADE_TIMEOUT', 'ETIMEOUT', 'ETIMEDOUT']);
const CONNECT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'NoConnection', 'EConnectionClosed', 'ClosedAfterConnectText']);
const LIMIT_RESPONSE_CODES = new Set(['LIMIT', 'UNAVAILABLE', 'INUSE', 'OVERQUOTA']);
const HOSTILE_CODES = /^(ParserError|LineTooLarge|LiteralTooLarge|ResponseTooLarge|TooManyTokens|TooManyResponses|MAX_IMAP_NESTING_REACHED|Invalid|UnexpectedTag|MissingTag|ResponseProcessingFailed|STARTTLS_INJECTION)/;

/** Throttling answers carry their own wait: Microsoft says "Suggested Backoff Time: N ms". */
function suggestedBackoffMs(text: string): number | undefined {
  const m = /Suggested Backoff Time:\s*(\d+)\s*(ms|milliseconds)?/i.exec(text);
  return m?.[1] ? Number(m[1]) : undefined;
}

/**
 * The one mapping from imapflow / socket / TLS errors to error classes and stable codes.
 * Messages are rebuilt from codes, never copied from the server, so no credential or content
 * can leak through them.
 */
export function classifyImapError(err: unknown): ClassifiedError {
  const e = (typeof err === 'object' && err !== null ? err : {}) as ImapLikeError;
  const code = typeof e.code === 'string' ? e.code : '';
  const responseCode = typeof e.serverResponseCode === 'string' ? e.serverResponseCode.toUpperCase() : '';
  const responseText = typeof e.responseText === 'string' ? e.responseText : '';

  const backoff = suggestedBackoffMs(responseText);
  if (LIMIT_RESPONSE_CODES.has(responseCode) || backoff !== undefined || /too many (simultaneous )?connections/i.test(responseText)) {
    return {
      errorClass: ErrorClass.RateLimited,
      code: 'rate_limited',
      message: 'The mail server asked us to slow down (too many connections or requests)',
      ...(backoff !== undefined ? { retryAfterMs: backoff } : {}),
    };
  }
  if (e.authenticationFailed === true || responseCode === 'AUTHENTICATIONFAILED' || responseCode === 'AUTHORIZATIONFAILED') {
    return { errorClass: ErrorClass.Auth, code: 'auth_failed', message: 'The mail server rejected the username or password' };
  }
  if (TLS_CODES.has(code) || code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL') || /certificate/i.test(String(e.message ?? ''))) {
    return { errorClass: ErrorClass.Permanent, code: 'tls_failed', message: `TLS handshake with the mail server failed (${code || 'certificate'})` };
  }
  if (code === 'ENOTFOUND') {
    return { errorClass: ErrorClass.Transient, code: 'host_not_found', message: 'The mail server host name does not resolve' };
  }
  if (TIMEOUT_CODES.has(code)) {
    return { errorClass: ErrorClass.Transient, code: 'timeout', message: `The mail server did not answer in time (${code})` };
  }
  if (CONNECT_CODES.has(code)) {
    return { errorClass: ErrorClass.Transient, code: 'connect_failed', message: `Could not talk to the mail server (${code})` };
  }
  if (HOSTILE_CODES.test(code)) {
    return { errorClass: ErrorClass.Transient, code: 'protocol_error', message: `The mail server sent a response we refuse to process (${code})` };
  }
  if (code === 'MissingServerExtension') {
    return { errorClass: ErrorClass.Permanent, code: 'unsupported_server', message: 'The mail server lacks a required IMAP capability' };
  }
  return { errorClass: ErrorClass.Transient, code: 'imap_error', message: `Unexpected IMAP failure${code ? ` (${code})` : ''}` };
}
