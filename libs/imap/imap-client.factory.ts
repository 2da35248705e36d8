import { ImapFlow, type ImapFlowOptions } from 'imapflow';
import type { ImapEndpoint } from '../store';
import type { ResolvedHost } from './host-guard';

export interface ImapTimeouts {
  connectTimeoutMs: number;
  socketTimeoutMs: number;
  reIdleMs: number;
}

/**
 * Response limits: a hostile or broken server streaming junk, giant literals or endless lines
 * must not grow our memory without bound. We only ever read envelopes and flags.
 */
const MAX_LINE_BYTES = 64 * 1024;
const MAX_LITERAL_BYTES = 1024 * 1024;
const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

export function createImapClient(
  endpoint: ImapEndpoint,
  resolved: ResolvedHost,
  auth: { user: string; pass: string },
  timeouts: ImapTimeouts,
): ImapFlow {
  const options: ImapFlowOptions = {
    host: resolved.address,
    ...(resolved.servername ? { servername: resolved.servername } : {}),
    port: endpoint.port,
    secure: endpoint.tls,
    // Plain-port accounts still upgrade with STARTTLS when the server offers it.
    auth,
    logger: false,
    emitLogs: false,
    connectionTimeout: timeouts.connectTimeoutMs,
    greetingTimeout: timeouts.connectTimeoutMs,
    socketTimeout: timeouts.socketTimeoutMs,
    // Re-IDLE before NATs and providers drop a quiet flow (some at 4-10 min, servers at 29+).
    maxIdleTime: timeouts.reIdleMs,
    // Default 15 s keeps the connection out of IDLE after every FETCH: mail arriving then is seen late.
    autoIdleDelay: 0,
    missingIdleCommand: 'STATUS',
    maxLineLength: MAX_LINE_BYTES,
    maxLiteralSize: MAX_LITERAL_BYTES,
    maxResponseSize: MAX_RESPONSE_BYTES,
  };
  return new ImapFlow(options);
}
