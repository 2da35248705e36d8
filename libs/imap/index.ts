export { resolveImapHost, HostNotAllowedError, HostNotFoundError, type ResolvedHost } from './host-guard';
export { createImapClient, RESPONSE_LIMITS, type ImapAuth, type ImapTimeouts } from './imap-client.factory';
export {
  verifyImapLogin,
  isRetryableLoginError,
  type LoginCheck,
  type LoginCheckOptions,
  type LoginGate,
  type LoginAdmission,
  type LoginOutcome,
} from './login-verifier';
export {
  imapEndpointPolicy,
  resolveImapEndpoint,
  endpointRefusal,
  PortNotAllowedError,
  type ImapEndpointPolicy,
} from './endpoint-policy';
export { MailboxWatcher, type MailboxWatcherDeps, type WatchSettings, type WatcherTelemetry } from './mailbox-watcher';
export { type WatchMode, type SessionState, type SessionPhase, SESSION_TRANSITIONS } from './mailbox-session';
export { type WatcherState, type WatcherPhase, type StopReason, WATCHER_TRANSITIONS } from './mailbox-watcher';
export { Lifecycle, IllegalTransition, type TransitionTable } from './lifecycle';
export { planCatchUp, type NewMessage, type NewMail, type CatchUpPlan } from './catch-up-plan';
export { ConnectPacer, type PacingRates } from './connect-pacer';
export { LivenessMonitor, type LivenessSettings } from './liveness-monitor';
export {
  reconnectDelayMs,
  ReconnectBackoff,
  STABLE_CONNECTION_MS,
  DEFAULT_BACKOFF,
  type BackoffSettings,
} from './reconnect-policy';
export { sanitizeAlert, MAX_ALERT_CHARS } from './server-alert';
