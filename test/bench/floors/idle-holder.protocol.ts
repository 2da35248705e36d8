import type { MemorySample } from '../process-stats';

/**
 * What a holder process does with each login:
 * - `imapflow`: a bare imapflow client — TLS, LOGIN, EXAMINE INBOX (read-only), IDLE — with the
 *   options the worker sets that can change memory (no logger, the worker's response limits and
 *   socket timeout, IDLE driven by hand as the worker does);
 * - `raw`: a node:tls socket that types the same commands itself (LOGIN, EXAMINE INBOX, IDLE) and
 *   then only counts the bytes it receives: no parser, no timers, no per-connection objects but
 *   the socket and one closure;
 * - `observe`: `raw`, and every `* n EXISTS` the server sends while idling is reported with the
 *   time it arrived (the server's own notification, the floor of the latency row).
 */
export type HolderMode = 'imapflow' | 'raw' | 'observe';

export interface HolderLogin {
  user: string;
  password: string;
}

export type HolderCommand =
  | { type: 'open'; mode: HolderMode; host: string; port: number; logins: HolderLogin[]; concurrency: number }
  | { type: 'measure' }
  | { type: 'close' };

export type HolderReport =
  | { type: 'progress'; opened: number; total: number }
  | { type: 'opened'; opened: number; failed: number; firstError?: string; ms: number; exists: Record<string, number> }
  | { type: 'memory'; sample: MemorySample }
  | { type: 'exists'; user: string; count: number; at: number }
  | { type: 'closed' };
