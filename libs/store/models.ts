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

export interface Account {
  id: string;
  userId: string;
  email: string;
  provider: 'imap';
  imap: ImapEndpoint;
  username: string;
  status: AccountStatus;
  /** Sanitized words about the last failure, safe to show the user. */
  lastError?: string;
  nextAttemptAt?: string;
  lastEventAt?: string;
  createdAt: string;
}

export interface AccountStatusUpdate {
  status: AccountStatus;
  lastError?: string | null;
  nextAttemptAt?: string | null;
}

export interface MailboxCursor {
  uidValidity: number;
  lastUid: number;
}
