import { ErrorClass, type ClassifiedError } from './error-class';

interface ImapLikeError {
  code?: unknown;
  message?: unknown;
  authenticationFailed?: unknown;
  serverResponseCode?: unknown;
  responseText?: unknown;
  responseStatus?: unknown;
  throttleReset?: unknown;
  /** imapflow: the server's BYE text when a BYE closed a pending connect. */
  reason?: unknown;
  /** imapflow: STARTTLS was required and could not happen. */
  tlsFailed?: unknown;
}

/**
 * Codes the watcher gives its own failures (libs/imap): a probe left unanswered, a login + SELECT
 * that took too long, a server that said BYE, a server that refuses IDLE in a loop.
 */
export const WatcherErrorCode = {
  ProbeTimeout: 'ProbeTimeout',
  SetupTimeout: 'SetupTimeout',
  ServerBye: 'ServerBye',
  ConnectionClosed: 'ConnectionClosed',
  Unparseable: 'Unparseable',
} as const;

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
]);
const TIMEOUT_CODES = new Set(['CONNECT_TIMEOUT', 'GREETING_TIMEOUT', 'UPGRADE_TIMEOUT', 'ETIMEOUT', 'ETIMEDOUT']);
const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'NoConnection',
  'EConnectionClosed',
  // The server closed before connect() finished (over TLS or not): a hiccup, not a TLS problem.
  'ClosedAfterConnectText',
  'ClosedAfterConnectTLS',
]);
const LIMIT_RESPONSE_CODES = new Set(['LIMIT', 'UNAVAILABLE', 'INUSE', 'OVERQUOTA', 'THROTTLED']);
/**
 * Gmail: "[ALERT] Too many simultaneous connections"; Dovecot: "Maximum number of connections from
 * user+IP exceeded"; Microsoft: "Request is throttled"; others say "rate limit" or "try again later".
 */
const RATE_LIMIT_TEXT =
  /too many (simultaneous |concurrent )?(connections|logins|sessions)|maximum number of connections|connection limit|rate.?limit|throttl/i;
const HOSTILE_CODES =
  /^(ParserError|LineTooLarge|LiteralTooLarge|ResponseTooLarge|TooManyTokens|TooManyResponses|MAX_IMAP_NESTING_REACHED|Invalid|UnexpectedTag|MissingTag|ResponseProcessingFailed|STARTTLS_INJECTION)/;

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
  // A BYE that closed a pending connect carries its text in `reason` ("Too many connections").
  const responseText = [e.responseText, e.reason].filter((t): t is string => typeof t === 'string').join(' ');

  const backoff =
    suggestedBackoffMs(responseText) ??
    (code === 'ETHROTTLE' && typeof e.throttleReset === 'number' ? e.throttleReset : undefined);
  if (
    LIMIT_RESPONSE_CODES.has(responseCode) ||
    backoff !== undefined ||
    code === 'ETHROTTLE' ||
    RATE_LIMIT_TEXT.test(responseText)
  ) {
    return {
      errorClass: ErrorClass.RateLimited,
      code: 'rate_limited',
      message: 'The mail server asked us to slow down (too many connections or requests)',
      ...(backoff !== undefined ? { retryAfterMs: backoff } : {}),
    };
  }
  if (code === WatcherErrorCode.ProbeTimeout) {
    return {
      errorClass: ErrorClass.Transient,
      code: 'probe_timeout',
      message: 'The mail server stopped answering (a liveness probe went unanswered)',
    };
  }
  if (code === WatcherErrorCode.SetupTimeout) {
    return {
      errorClass: ErrorClass.Transient,
      code: 'timeout',
      message: 'The mail server did not complete login and mailbox selection in time',
    };
  }
  if (code === WatcherErrorCode.ServerBye) {
    return {
      errorClass: ErrorClass.Transient,
      code: 'server_closed',
      message: 'The mail server ended the session (BYE)',
    };
  }
  if (code === WatcherErrorCode.Unparseable) {
    return {
      errorClass: ErrorClass.Transient,
      code: 'protocol_error',
      message: 'The mail server sent responses we refuse to process (unparseable lines)',
    };
  }
  if (code === WatcherErrorCode.ConnectionClosed) {
    return {
      errorClass: ErrorClass.Transient,
      code: 'connection_closed',
      message: 'The connection to the mail server closed',
    };
  }
  if (
    e.authenticationFailed === true ||
    responseCode === 'AUTHENTICATIONFAILED' ||
    responseCode === 'AUTHORIZATIONFAILED'
  ) {
    return {
      errorClass: ErrorClass.Auth,
      code: 'auth_failed',
      message: 'The mail server rejected the username or password',
    };
  }
  if (e.tlsFailed === true && !TLS_CODES.has(code) && !code.startsWith('ERR_TLS') && !code.startsWith('ERR_SSL')) {
    // imapflow with doSTARTTLS: the plain-port server offers no STARTTLS (or a man in the middle
    // stripped it); the connection ends before LOGIN.
    return {
      errorClass: ErrorClass.Permanent,
      code: 'starttls_unavailable',
      message:
        'The mail server does not offer STARTTLS on this port, so the password was not sent; use the TLS port (993) or ask the operator',
    };
  }
  if (
    TLS_CODES.has(code) ||
    code.startsWith('ERR_TLS') ||
    code.startsWith('ERR_SSL') ||
    /certificate/i.test(String(e.message ?? ''))
  ) {
    return {
      errorClass: ErrorClass.Permanent,
      code: 'tls_failed',
      message:
        'The TLS handshake with the mail server failed (certificate not trusted, expired or for another name, or not TLS on this port)',
    };
  }
  if (code === 'ENOTFOUND') {
    return {
      errorClass: ErrorClass.Transient,
      code: 'host_not_found',
      message: 'The mail server host name does not resolve',
    };
  }
  if (TIMEOUT_CODES.has(code)) {
    return {
      errorClass: ErrorClass.Transient,
      code: 'timeout',
      message: 'The mail server did not answer in time',
    };
  }
  if (CONNECT_CODES.has(code)) {
    return {
      errorClass: ErrorClass.Transient,
      code: 'connect_failed',
      message: 'Could not connect to the mail server',
    };
  }
  if (HOSTILE_CODES.test(code)) {
    return {
      errorClass: ErrorClass.Transient,
      code: 'protocol_error',
      message: `The mail server sent a response we refuse to process (${code})`,
    };
  }
  if (code === 'MissingServerExtension') {
    return {
      errorClass: ErrorClass.Permanent,
      code: 'unsupported_server',
      message: 'The mail server lacks a required IMAP capability',
    };
  }
  return {
    errorClass: ErrorClass.Transient,
    code: 'imap_error',
    message: 'Unexpected failure talking to the mail server',
  };
}
