export { resolveImapHost, HostNotAllowedError, HostNotFoundError, type ResolvedHost } from './host-guard';
export { createImapClient, type ImapTimeouts } from './imap-client.factory';
export { verifyImapLogin, isRetryableLoginError, type LoginCheck } from './login-verifier';
export { MailboxWatcher, type MailboxWatcherDeps, type NewMessage } from './mailbox-watcher';
export { reconnectDelayMs, STABLE_CONNECTION_MS } from './reconnect-policy';
