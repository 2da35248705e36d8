import type { Logger } from '@mailpush/logging';
import type { SessionSettings } from '../mailbox-session';
import type { WatchSettings } from '../mailbox-watcher';

/** Production defaults are minutes; a fake clock makes any value cost nothing, these keep the arithmetic easy. */
export const UNIT_SETTINGS: WatchSettings = {
  timeouts: { connectTimeoutMs: 10_000, socketTimeoutMs: 600_000 },
  reIdleMs: 540_000,
  pollIntervalMs: 60_000,
  liveness: { probeAfterMs: 90_000, probeTimeoutMs: 30_000 },
  summaryThreshold: 5,
  backoff: { baseMs: 1_000, maxMs: 8_000 },
};

export const UNIT_SESSION_SETTINGS: SessionSettings = { ...UNIT_SETTINGS, notifySeen: false };

/** Records what was logged (messages only) instead of printing it. */
export function recordingLogger(): Logger & { messages: string[] } {
  const messages: string[] = [];
  const log = (msg: string): void => {
    messages.push(msg);
  };
  return { messages, debug: log, info: log, warn: log, error: log };
}
