export type Platform = 'ios' | 'android' | 'web';
export type PrivacyTier = 'full' | 'sender' | 'none';
export type ApnsEnvironment = 'sandbox' | 'production';

export interface User {
  id: string;
  createdAt: string;
}

export interface Device {
  id: string;
  userId: string;
  platform: Platform;
  /** APNs hex token, FCM registration token, or a Web Push subscription as JSON. */
  token: string;
  environment?: ApnsEnvironment;
  privacy: PrivacyTier;
  createdAt: string;
}

export type AccountStatus = 'connecting' | 'idle' | 'polling' | 'backoff' | 'auth_error' | 'disabled';

export interface ImapEndpoint {
  host: string;
  port: number;
  tls: boolean;
}

export interface AccountOptions {
  /** Notify messages that are already \Seen when the worker fetches them (read elsewhere first). */
  notifySeen: boolean;
}

/** How the account logs in: a password (or app password), or an OAuth2 grant (XOAUTH2 / OAUTHBEARER). */
export type AccountAuthType = 'password' | 'oauth2';

export interface Account {
  id: string;
  userId: string;
  email: string;
  provider: 'imap';
  imap: ImapEndpoint;
  username: string;
  authType: AccountAuthType;
  /** The provider (libs/providers id) whose OAuth2 grant the account holds; set for `oauth2` only. */
  oauthProvider?: string;
  options: AccountOptions;
  status: AccountStatus;
  /** Sanitized words about the last failure, safe to show the user. */
  lastError?: string;
  nextAttemptAt?: string;
  lastEventAt?: string;
  /** The server's last [ALERT] text, sanitized and length-bounded. */
  alert?: string;
  /** Grows each time the credentials are replaced: a worker holding older ones must restart. */
  credentialsVersion: number;
  createdAt: string;
}

export interface AccountStatusUpdate {
  status: AccountStatus;
  lastError?: string | null;
  nextAttemptAt?: string | null;
  alert?: string | null;
}

/**
 * A summary event ("7 new messages") about to be published: recorded before the publish so that
 * a worker replaying the same catch-up after a crash publishes the very same summary (same job id)
 * even if more mail has arrived since.
 */
export interface PendingSummary {
  uidValidity: number;
  firstUid: number;
  lastUid: number;
  count: number;
  /** The cursor moves here once the summary is published (UIDs up to it were all looked at). */
  coversUpTo: number;
}

export interface MailboxCursor {
  uidValidity: number;
  lastUid: number;
  pendingSummary?: PendingSummary;
}
