import { createSecureContext, type SecureContext } from 'node:tls';
import { ImapFlow, type ImapFlowOptions, type Logger as ImapFlowLogger } from 'imapflow';
import type { ImapEndpoint } from '@mailpush/store';
import type { ResolvedHost } from './host-guard';

/** A password login, or SASL XOAUTH2 / OAUTHBEARER with an OAuth2 access token (imapflow picks the one offered). */
export type ImapAuth = { user: string; pass: string } | { user: string; accessToken: string };

export interface ImapTimeouts {
  connectTimeoutMs: number;
  /**
   * imapflow's inactivity watchdog. While idling it answers a quiet socket with a NOOP of its own
   * and fails only a NOOP or command left unanswered; the watcher's own probe acts first, this is
   * the backstop (kept above probe + probe timeout, and above the poll interval, by the config).
   */
  socketTimeoutMs: number;
}

/**
 * Response limits: a hostile or broken server streaming junk, giant literals or endless lines
 * must not grow our memory without bound. We only ever read FLAGS, UIDs and envelopes, each
 * response one message: 256 KB covers an envelope with thousands of recipients, and imapflow's
 * defaults (1 GB lines and literals, 2 GB responses) would let one connection take gigabytes.
 */
export const RESPONSE_LIMITS = {
  maxLineLength: 256 * 1024,
  maxLiteralSize: 1024 * 1024,
  maxResponseSize: 2 * 1024 * 1024,
} as const;

export interface ImapClientOptions {
  /**
   * Hand IDLE to the caller (the watcher decides when to IDLE, when to poll and when to re-IDLE).
   * Off for one-shot clients such as the login check.
   */
  manualIdle?: boolean;
  /**
   * Called for every server line imapflow could not parse. imapflow skips such lines, so a server
   * streaming junk in lines short enough to pass the limits would be read forever: the caller
   * counts them and gives up.
   */
  onUnparseable?: () => void;
}

const ignore = (): void => undefined;

/** imapflow's own log entries carry raw server lines: nothing of them is printed, parse failures are counted. */
function parseFailureCounter(onUnparseable: (() => void) | undefined): ImapFlowLogger | false {
  if (!onUnparseable) return false;
  return {
    trace: ignore,
    debug: ignore,
    info: ignore,
    warn: ignore,
    error: (entry: unknown) => {
      const err = typeof entry === 'object' && entry !== null ? (entry as { err?: unknown }).err : undefined;
      const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
      if (typeof code === 'string' && code.startsWith('ParserError')) onUnparseable();
    },
  };
}

let sharedContext: SecureContext | undefined;

/**
 * One client TLS context for every connection of the process, built with the same defaults
 * tls.connect uses for its own. Left to itself, tls.connect builds one per connection, and each
 * holds ~24 KB of native memory for as long as the connection lives: as much as everything else
 * a watched mailbox costs the worker over bare imapflow. Certificate checks stay per connection.
 */
function clientSecureContext(): SecureContext {
  sharedContext ??= createSecureContext();
  return sharedContext;
}

export function createImapClient(
  endpoint: ImapEndpoint,
  resolved: ResolvedHost,
  auth: ImapAuth,
  timeouts: ImapTimeouts,
  options: ImapClientOptions = {},
): ImapFlow {
  const flowOptions: ImapFlowOptions = {
    host: resolved.address,
    ...(resolved.servername ? { servername: resolved.servername } : {}),
    port: endpoint.port,
    secure: endpoint.tls,
    // A plain-port account must upgrade with STARTTLS before LOGIN: imapflow otherwise sends the
    // password in clear to a server (or a man in the middle) that does not offer it.
    ...(endpoint.tls || resolved.cleartextAllowed ? {} : { doSTARTTLS: true }),
    tls: { secureContext: clientSecureContext() },
    auth,
    logger: parseFailureCounter(options.onUnparseable),
    emitLogs: false,
    connectionTimeout: timeouts.connectTimeoutMs,
    greetingTimeout: timeouts.connectTimeoutMs,
    socketTimeout: timeouts.socketTimeoutMs,
    // imapflow's own auto-IDLE re-enters IDLE after every command and, on servers without IDLE,
    // polls by itself; the watcher owns both (re-IDLE timer, STATUS polls) so it turns this off.
    disableAutoIdle: options.manualIdle ?? false,
    // Default 15 s keeps the connection out of IDLE after every FETCH: mail arriving then is seen late.
    autoIdleDelay: 0,
    missingIdleCommand: 'STATUS',
    ...RESPONSE_LIMITS,
  };
  return new ImapFlow(flowOptions);
}
