import { classified, type ClassifiedError } from './classified-error';
import { ErrorCode } from './error-code';
import { classifyNetworkError, isTlsErrorCode } from './network-error.classifier';

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

/** imapflow's own connection failures (Node's socket/TLS/DNS codes are in network-error.classifier.ts). */
const IMAPFLOW_TIMEOUT_CODES: ReadonlySet<string> = new Set(['CONNECT_TIMEOUT', 'GREETING_TIMEOUT', 'UPGRADE_TIMEOUT']);
const IMAPFLOW_CONNECT_CODES: ReadonlySet<string> = new Set([
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
  const field = (key: keyof ImapLikeError): unknown =>
    typeof err === 'object' && err !== null ? Reflect.get(err, key) : undefined;
  const rawCode = field('code');
  const code = typeof rawCode === 'string' ? rawCode : '';
  const rawResponseCode = field('serverResponseCode');
  const responseCode = typeof rawResponseCode === 'string' ? rawResponseCode.toUpperCase() : '';
  // A BYE that closed a pending connect carries its text in `reason` ("Too many connections").
  const responseText = [field('responseText'), field('reason')]
    .filter((t): t is string => typeof t === 'string')
    .join(' ');

  const throttleReset = field('throttleReset');
  const backoff =
    suggestedBackoffMs(responseText) ??
    (code === 'ETHROTTLE' && typeof throttleReset === 'number' ? throttleReset : undefined);
  if (
    LIMIT_RESPONSE_CODES.has(responseCode) ||
    backoff !== undefined ||
    code === 'ETHROTTLE' ||
    RATE_LIMIT_TEXT.test(responseText)
  ) {
    return classified(
      ErrorCode.RateLimited,
      'The mail server asked us to slow down (too many connections or requests)',
      backoff,
    );
  }
  const watcherFailure = Object.hasOwn(WATCHER_FAILURES, code) ? WATCHER_FAILURES[code] : undefined;
  if (watcherFailure) return classified(watcherFailure.code, watcherFailure.message);
  if (
    field('authenticationFailed') === true ||
    responseCode === 'AUTHENTICATIONFAILED' ||
    responseCode === 'AUTHORIZATIONFAILED'
  ) {
    return classified(ErrorCode.AuthFailed, 'The mail server rejected the username or password');
  }
  if (field('tlsFailed') === true && !isTlsErrorCode(code)) {
    // imapflow with doSTARTTLS: the plain-port server offers no STARTTLS (or a man in the middle
    // stripped it); the connection ends before LOGIN.
    return classified(
      ErrorCode.StarttlsUnavailable,
      'The mail server does not offer STARTTLS on this port, so the password was not sent; use the TLS port (993) or ask the operator',
    );
  }
  const network = /certificate/i.test(String(field('message') ?? ''))
    ? ErrorCode.TlsFailed
    : (classifyNetworkError(err) ??
      (IMAPFLOW_TIMEOUT_CODES.has(code)
        ? ErrorCode.Timeout
        : IMAPFLOW_CONNECT_CODES.has(code)
          ? ErrorCode.ConnectFailed
          : undefined));
  if (network !== undefined) return classified(network, NETWORK_MESSAGES[network]);
  if (HOSTILE_CODES.test(code)) {
    return classified(ErrorCode.ProtocolError, `The mail server sent a response we refuse to process (${code})`);
  }
  if (code === 'MissingServerExtension') {
    return classified(ErrorCode.UnsupportedServer, 'The mail server lacks a required IMAP capability');
  }
  return classified(ErrorCode.ImapError, 'Unexpected failure talking to the mail server');
}

/** The words of each network code when the mail server is the peer (unchanged API messages). */
const NETWORK_MESSAGES: Partial<Record<ErrorCode, string>> = {
  [ErrorCode.TlsFailed]:
    'The TLS handshake with the mail server failed (certificate not trusted, expired or for another name, or not TLS on this port)',
  [ErrorCode.HostNotFound]: 'The mail server host name does not resolve',
  [ErrorCode.Timeout]: 'The mail server did not answer in time',
  [ErrorCode.ConnectFailed]: 'Could not connect to the mail server',
  [ErrorCode.HostNotAllowed]: 'The mail server is on a private, loopback or reserved network',
  [ErrorCode.PortNotAllowed]: 'This port is not allowed for IMAP on this relay',
};

const WATCHER_FAILURES: Readonly<Record<string, { code: ErrorCode; message: string }>> = {
  [WatcherErrorCode.ProbeTimeout]: {
    code: ErrorCode.ProbeTimeout,
    message: 'The mail server stopped answering (a liveness probe went unanswered)',
  },
  [WatcherErrorCode.SetupTimeout]: {
    code: ErrorCode.Timeout,
    message: 'The mail server did not complete login and mailbox selection in time',
  },
  [WatcherErrorCode.ServerBye]: { code: ErrorCode.ServerClosed, message: 'The mail server ended the session (BYE)' },
  [WatcherErrorCode.Unparseable]: {
    code: ErrorCode.ProtocolError,
    message: 'The mail server sent responses we refuse to process (unparseable lines)',
  },
  [WatcherErrorCode.ConnectionClosed]: {
    code: ErrorCode.ConnectionClosed,
    message: 'The connection to the mail server closed',
  },
};
