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
export { type WatchMode } from './mailbox-session';
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
